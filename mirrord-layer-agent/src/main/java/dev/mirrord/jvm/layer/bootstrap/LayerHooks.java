package dev.mirrord.jvm.layer.bootstrap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * What the layer does when a hooked JDK method runs. The layer registers one implementation with
 * {@link LayerBridge#register}; {@link LayerBridge} calls it inside {@link BypassGuard} and swallows
 * anything it throws, so implementations decide and log, and never need to protect the host JVM
 * themselves.
 *
 * <p>New hooks get new methods here (with a matching static entry point in {@link LayerBridge}).
 */
public interface LayerHooks {

  /**
   * A server socket was bound.
   *
   * @param requested the address the app asked for ({@code null} for "any address, any port")
   * @param boundPort the port actually bound (differs from the requested one for port 0), or -1
   *     if unknown (e.g. a Unix domain socket)
   */
  void onListen(SocketAddress requested, int boundPort);

  /** A bound server socket on {@code localPort} was closed. */
  void onListenClosed(int localPort);

  /**
   * The real peer of an accepted connection, when it was relayed by mirrord: the app sees the
   * target's client, not the CLI's loopback socket.
   *
   * @param appLocalPort the accepted socket's local port (the app's listening port)
   * @param seen the peer as the JDK knows it
   * @return the real peer, or {@code null} to keep {@code seen}
   */
  InetSocketAddress realPeer(int appLocalPort, InetSocketAddress seen);

  /**
   * The JDK's name service is asked for the addresses of {@code host} (below its cache).
   *
   * @param characteristics the JDK 18+ {@code InetAddressResolver.LookupPolicy} bits (1 IPv4, 2
   *     IPv6, 4 IPv4 first, 8 IPv6 first), or -1 on JDK 17 (no policy: the JVM's {@code
   *     java.net.prefer*} properties apply)
   * @return the addresses, or {@code null} to let the JDK resolve {@code host} itself
   * @throws UnknownHostException the name does not resolve in the target: the app sees this
   */
  default InetAddress[] lookup(String host, int characteristics) throws UnknownHostException {
    return null;
  }
}
