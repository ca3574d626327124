package dev.mirrord.jvm.layer.bootstrap;

import java.io.IOException;
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

  /** {@link #connectTarget} protocol: a TCP connect. */
  int TCP = 1;

  /** {@link #connectTarget} protocol: a datagram socket's connect. */
  int UDP = 2;

  /**
   * The app connects a socket ({@link #TCP}) or a datagram socket ({@link #UDP}) to {@code
   * requested}.
   *
   * @param timeoutMillis the app's connect timeout, 0 if none
   * @return the loopback endpoint to connect to instead (the flow then runs through the target), or
   *     {@code null} to connect locally as asked
   * @throws IOException the connect failed in the target: the app sees this, as it would there
   */
  default InetSocketAddress connectTarget(int protocol, InetSocketAddress requested, int timeoutMillis)
      throws IOException {
    return null;
  }

  /**
   * An unconnected datagram socket sends to {@code target}.
   *
   * @return where to send instead (a DNS query goes to the target's name server), or {@code null}
   */
  default InetSocketAddress datagramTarget(InetSocketAddress target) {
    return null;
  }

  /**
   * The peer a datagram socket reports ({@code getRemoteAddress()}, a received datagram's sender).
   *
   * @return the address the app asked for, when {@code seen} is a loopback endpoint of a flow
   *     mirrord runs, else {@code null}
   */
  default InetSocketAddress datagramPeer(InetSocketAddress seen) {
    return null;
  }

  /** A datagram socket connected to {@code remote} (as the JDK knows it) was closed. */
  default void datagramClosed(InetSocketAddress remote) {}

  /**
   * The app opens {@code path} read-only ({@code FileInputStream}, {@code RandomAccessFile} in
   * mode {@code "r"}, NIO channels and streams). Only paths ending in {@code hosts} or {@code
   * resolv.conf} get here ({@link LayerBridge#openForRead}).
   *
   * @return the file to open instead (a copy of the target's resolver file), or {@code null} to
   *     open {@code path}
   */
  default String readInstead(String path) {
    return null;
  }
}
