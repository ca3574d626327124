/**
 * The layer's transport: one Netty NIO connection to the CLI's session proxy ({@link
 * dev.mirrord.jvm.layer.transport.ProxyConnection}), the handshake, request/answer pairing ({@link
 * dev.mirrord.jvm.layer.transport.RequestCorrelator}) and keep-alive pings; and, for the app's
 * TCP connects, a few more protocol connections that the app's threads drive themselves with
 * blocking I/O ({@link dev.mirrord.jvm.layer.transport.BlockingConnectionPool}), so a connect
 * wakes no layer thread.
 *
 * <p>It knows nothing about which JDK method was hooked. Its sockets are opened inside {@code
 * BypassGuard} and its event-loop threads ({@code mirrord-layer-N}, daemon) live inside it, so the
 * layer never intercepts itself. Netty is shaded; its internal logging goes to the layer log.
 */
package dev.mirrord.jvm.layer.transport;
