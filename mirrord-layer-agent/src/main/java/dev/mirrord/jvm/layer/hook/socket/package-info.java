/**
 * Socket hooks: Byte Buddy advice on the JDK's server sockets ({@code java.net.ServerSocket} and
 * {@code sun.nio.ch.ServerSocketChannelImpl}). Each advice is one call into {@code LayerBridge};
 * the decisions live in {@code layer.socket}.
 */
package dev.mirrord.jvm.layer.hook.socket;
