/**
 * What a hook is: a {@link dev.mirrord.jvm.layer.hook.TypeInstrumentation} names one JDK type and
 * the advice woven into it. The feature sub-packages ({@code .socket}, later {@code .dns}, {@code
 * .udp}) hold the instrumentations; {@code LayerInstaller} applies them all with one {@code
 * AgentBuilder}.
 */
package dev.mirrord.jvm.layer.hook;
