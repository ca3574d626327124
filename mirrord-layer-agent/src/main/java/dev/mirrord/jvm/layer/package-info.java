/**
 * The layer: the {@code -javaagent} the CLI injects into the user's JVM ({@code
 * -javaagent:mirrord-layer-agent.jar=<session file>}).
 *
 * <p>{@link dev.mirrord.jvm.layer.LayerAgent} (premain: tiny, never throws) makes the {@code
 * .bootstrap} package boot-visible ({@code BootstrapInjector}), then {@code LayerStartup} reads the
 * session file
 * ({@link dev.mirrord.jvm.layer.LayerConfig}), connects and handshakes with the CLI ({@code
 * .transport}), registers the hooks with {@code LayerBridge} and installs the advice with {@link
 * dev.mirrord.jvm.layer.LayerInstaller}. The flow of one hooked call: advice ({@code .hook.*}) →
 * {@code LayerBridge} (boot loader) → {@code RoutingHooks} → {@code *Ops} ({@code .socket})
 * → {@code ProxyConnection}. Each step depends only on the next.
 *
 * <p>Every dependency (Netty, Byte Buddy, the protocol) is relocated under {@code
 * dev.mirrord.jvm.layer.shaded}; the layer logs only to the session's log file.
 */
package dev.mirrord.jvm.layer;
