/**
 * Socket decisions of the layer, in plain Java: what a hooked bind/listen/connect means for this
 * session (ignored ports, port mapping, incoming mode). The {@code *Ops} classes here are called
 * through {@code LayerHooks} and are unit-tested without a JVM agent; they never throw into the
 * app and return a {@code HookResult} saying what they decided.
 */
package dev.mirrord.jvm.layer.socket;
