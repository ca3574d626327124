/**
 * The one serializer: {@link dev.mirrord.jvm.protocol.codec.WireTags} (stable tag table), {@link
 * dev.mirrord.jvm.protocol.codec.MessageCodec} and {@link
 * dev.mirrord.jvm.protocol.codec.ProtocolPipeline}, the only code that installs protocol handlers.
 */
package dev.mirrord.jvm.protocol.codec;
