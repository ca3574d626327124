/**
 * The mirrord-for-the-JVM wire protocol: message records under the sealed roots {@link
 * dev.mirrord.jvm.protocol.ClientMessage} (layer/CLI to pod agent) and {@link
 * dev.mirrord.jvm.protocol.AgentMessage} (pod agent to CLI/layer). Records hold data only; bytes
 * live in {@link dev.mirrord.jvm.protocol.Payload}. Serialization lives in {@code .codec} alone.
 *
 * <p>All records sit in this one package because sealed hierarchies outside a named module must
 * stay inside one package; the families are the nested types of {@link
 * dev.mirrord.jvm.protocol.Session}, {@link dev.mirrord.jvm.protocol.Target}, {@link
 * dev.mirrord.jvm.protocol.Tcp} and {@link dev.mirrord.jvm.protocol.Dns}.
 */
package dev.mirrord.jvm.protocol;
