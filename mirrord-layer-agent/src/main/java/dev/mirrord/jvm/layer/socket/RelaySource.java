package dev.mirrord.jvm.layer.socket;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Where the CLI's connections to the app come from, so that a peer can be told to be one of them
 * (a relay of an incoming connection, or an outgoing flow's loopback endpoint) without waiting:
 *
 * <ul>
 *   <li>the session's own loopback address {@code 127.a.b.c} (session file {@code
 *       incoming.relay.address}), which the CLI picks per session and binds every relay socket and
 *       outgoing listener to. Linux routes all of 127/8 to {@code lo}, so the app's listener on
 *       127.0.0.1, 0.0.0.0 or a dual-stack {@code ::} accepts them; a dual-stack socket may report
 *       the peer as {@code ::ffff:127.a.b.c} (Netty's native epoll does), which counts too;
 *   <li>{@code [::1]} with a source port in {@code incoming.relay.ports6} (a range outside the
 *       kernel's ephemeral ports), for apps that listen on {@code ::1} only, which IPv4 cannot
 *       reach: IPv6 has no other loopback address, so the port tells the relay.
 * </ul>
 *
 * Any other peer, e.g. the developer's own {@code curl http://127.0.0.1:8080/}, is not the CLI's.
 */
public final class RelaySource {
  /** Without the session key (a CLI older than this layer): relays came from 127.0.0.1. */
  public static final RelaySource LEGACY = new RelaySource(new byte[] {127, 0, 0, 1}, 0, -1);

  private final byte[] v4;
  private final int ports6From;
  private final int ports6To;

  private RelaySource(byte[] v4, int ports6From, int ports6To) {
    this.v4 = v4;
    this.ports6From = ports6From;
    this.ports6To = ports6To;
  }

  /**
   * The relay source of a session: {@code address}, and {@code [::1]} with source ports {@code
   * ports6From..ports6To} ({@code 0, -1} for none).
   *
   * @throws IllegalArgumentException if {@code address} is no IPv4 literal in 127.0.0.0/8
   */
  public static RelaySource of(String address, int ports6From, int ports6To) {
    byte[] v4 = InetAddresses.ipv4(address); // not through InetAddress: see there
    if (v4 == null || v4[0] != 127) {
      throw new IllegalArgumentException("must be an IPv4 address in 127.0.0.0/8, got '" + address + "'");
    }
    return new RelaySource(v4, ports6From, ports6To);
  }

  /** Whether {@code peer} may be a connection the CLI made (a relay or a flow's endpoint). */
  public boolean matches(InetSocketAddress peer) {
    if (peer == null || peer.getAddress() == null) {
      return false;
    }
    InetAddress a = peer.getAddress();
    byte[] v4Bytes = ipv4Of(a);
    if (v4Bytes != null) {
      return Arrays.equals(v4Bytes, v4);
    }
    return a.isLoopbackAddress() && peer.getPort() >= ports6From && peer.getPort() <= ports6To;
  }

  /** The session's loopback address. */
  public InetAddress address() {
    try {
      return InetAddress.getByAddress(v4);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // 4 bytes are always valid
    }
  }

  /**
   * The IPv4 bytes of {@code a}: its own for an {@link Inet4Address}, the embedded ones for an
   * IPv4-mapped {@link Inet6Address} ({@code ::ffff:a.b.c.d}); {@code null} otherwise.
   */
  static byte[] ipv4Of(InetAddress a) {
    if (a instanceof Inet4Address) {
      return a.getAddress();
    }
    if (a instanceof Inet6Address) {
      byte[] b = a.getAddress();
      for (int i = 0; i < 10; i++) {
        if (b[i] != 0) {
          return null;
        }
      }
      if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
        return Arrays.copyOfRange(b, 12, 16);
      }
    }
    return null;
  }

  @Override
  public String toString() {
    // the bytes by hand: printed in the layer's first line, before the hooks are in (see InetAddresses.ipv4)
    return (v4[0] & 0xff) + "." + (v4[1] & 0xff) + "." + (v4[2] & 0xff) + "." + (v4[3] & 0xff)
        + (ports6To >= ports6From ? " [::1]:" + ports6From + "-" + ports6To : "");
  }
}
