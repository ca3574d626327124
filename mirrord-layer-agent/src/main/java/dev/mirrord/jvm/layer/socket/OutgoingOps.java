package dev.mirrord.jvm.layer.socket;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.OutgoingFilter;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the app's outgoing connects mean for the session (mirrord's outgoing feature).
 *
 * <ul>
 *   <li>Loopback, wildcard and multicast addresses, unresolved addresses, the JDWP port, and
 *       everything when the CLI is gone or older than {@link Outgoing#SINCE}: local.
 *   <li>{@code outgoing.tcp=false} / {@code outgoing.udp=false}: that protocol stays local; {@code
 *       outgoing.filter}: per destination (see {@link OutgoingFilter}).
 *   <li>Otherwise the target connects, through the CLI: the app's socket is connected to the
 *       loopback endpoint the CLI opened for that flow, and reports the address it asked for
 *       ({@link PeerOps} for TCP, {@link #datagramPeer} for UDP). A failure in the target is the
 *       exception the JDK throws for that errno.
 *   <li>DNS queries the app sends itself (a datagram to port 53 of any address, loopback included,
 *       e.g. Netty's {@code DnsNameResolver} asking systemd-resolved's 127.0.0.53) go to the target's
 *       name server when {@code dns.remote} is on; the answer comes back with the sender the app
 *       sent to.
 *   <li>DNS over TCP (a resolver's fallback on a truncated answer) is outgoing TCP; with {@code
 *       dns.remote} on, a TCP connect to port 53 of a loopback address goes through the target
 *       too (to the target's own loopback resolver, e.g. a systemd-resolved 127.0.0.53 that the
 *       target's resolv.conf names), as the UDP query before it did.
 * </ul>
 */
public final class OutgoingOps {
  /** How long a connect waits for the CLI's answer when the app set no timeout. */
  static final int DEFAULT_WAIT_MILLIS = 75_000;

  /** Extra wait beyond the app's timeout (the agent's own timeout answers first). */
  static final int WAIT_MARGIN_MILLIS = 2_000;

  /** Asks the CLI to connect; {@code null} result means "not available, stay local". */
  public interface Connector {
    /** Whether the CLI connection is up and speaks the outgoing family. */
    boolean available();

    RemoteResult<Outgoing.Connected> connect(
        Outgoing.Protocol protocol, InetSocketAddress to, int timeoutMillis, int waitMillis)
        throws IOException;

    /** Tells the CLI the app closed the socket of a UDP flow. */
    void closeFlow(long connectionId);
  }

  private final boolean tcp;
  private final boolean udp;
  private final boolean dns;
  private final OutgoingFilter filter;
  private final Set<Integer> localPorts;
  private final Connector connector;
  private final PeerOps peers;
  private final LayerLog log;

  /** UDP loopback endpoint port → the address the app asked for. */
  private final Map<Integer, InetSocketAddress> datagramPeers = new ConcurrentHashMap<>();
  /** UDP loopback endpoint port → flow id. */
  private final Map<Integer, Long> datagramFlows = new ConcurrentHashMap<>();
  /** DNS server the app sends to → the loopback endpoint relaying to the target's name server. */
  private final Map<InetSocketAddress, InetSocketAddress> dnsRelays = new ConcurrentHashMap<>();

  /**
   * @param localPorts destination ports that always stay local (the JDWP port)
   */
  public OutgoingOps(
      boolean tcp,
      boolean udp,
      boolean dns,
      OutgoingFilter filter,
      Set<Integer> localPorts,
      Connector connector,
      PeerOps peers,
      LayerLog log) {
    this.tcp = tcp;
    this.udp = udp;
    this.dns = dns;
    this.filter = filter;
    this.localPorts = Set.copyOf(localPorts);
    this.connector = connector;
    this.peers = peers;
    this.log = log;
  }

  /**
   * A TCP connect ({@code isUdp=false}) or a datagram socket's connect to {@code to}.
   *
   * @return the loopback endpoint to connect to instead, or {@code null} for local
   */
  public InetSocketAddress connect(boolean isUdp, InetSocketAddress to, int timeoutMillis)
      throws IOException {
    Outgoing.Protocol protocol;
    if (isUdp && to.getPort() == 53 && dns && !to.isUnresolved()) {
      // DNS goes to the target's name server, whatever resolver (even a loopback one) the app asked.
      protocol = Outgoing.Protocol.DNS_UDP;
    } else if (!(isUdp ? udp : tcp) || !(routable(to) || isLoopbackDnsOverTcp(isUdp, to))
        || localPorts.contains(to.getPort()) || !filter.remote(isUdp, to)) {
      log.debug("outgoing " + (isUdp ? "udp " : "tcp ") + to + " stays local");
      return null;
    } else {
      protocol = isUdp ? Outgoing.Protocol.UDP : Outgoing.Protocol.TCP;
    }
    if (!connector.available()) {
      log.debug("outgoing " + to + " stays local: no mirrord connection with outgoing support");
      return null;
    }
    long start = System.nanoTime();
    int wait = timeoutMillis > 0 ? timeoutMillis + WAIT_MARGIN_MILLIS : DEFAULT_WAIT_MILLIS;
    RemoteResult<Outgoing.Connected> r;
    try {
      r = connector.connect(protocol, to, timeoutMillis, wait);
    } catch (SocketTimeoutException e) {
      log.info("outgoing " + protocol + " " + to + ": no answer from mirrord in " + wait + " ms");
      throw timeoutMillis > 0 ? new SocketTimeoutException("Connect timed out")
          : new ConnectException("Connection timed out");
    } catch (IOException e) {
      log.warn("outgoing " + protocol + " " + to + " failed in mirrord: " + e.getMessage());
      throw new ConnectException("mirrord: " + e.getMessage());
    }
    long micros = (System.nanoTime() - start) / 1000;
    if (!r.isOk()) {
      ResponseError error = ((RemoteResult.Err<Outgoing.Connected>) r).error();
      log.info("outgoing " + protocol + " " + to + " failed in the target: " + error.describe()
          + " (" + micros + " µs)");
      throw exceptionFor(error, timeoutMillis > 0);
    }
    Outgoing.Connected c = r.value();
    InetSocketAddress endpoint =
        new InetSocketAddress(InetAddresses.forLiteral(c.localAddress()), c.localPort());
    if (isUdp) {
      datagramPeers.put(c.localPort(), to);
      datagramFlows.put(c.localPort(), c.connectionId());
    } else {
      peers.record(endpoint, to);
    }
    // DEBUG: this runs in the app's thread, inside its connect; a line per connection at INFO is
    // a file write on every connect of a busy app.
    if (log.isDebugEnabled()) {
      log.debug("outgoing " + protocol + " " + to + " through the target via " + endpoint + " ("
          + micros + " µs)");
    }
    return endpoint;
  }

  /** An unconnected datagram to {@code target}: a DNS query goes to the target's name server. */
  public InetSocketAddress datagramTarget(InetSocketAddress target) throws IOException {
    if (target.getPort() != 53 || !dns || target.isUnresolved()) {
      return null;
    }
    InetSocketAddress relay = dnsRelays.get(target);
    if (relay != null) {
      return relay;
    }
    synchronized (dnsRelays) {
      relay = dnsRelays.get(target);
      if (relay == null) {
        relay = connect(true, target, 0);
        if (relay != null) {
          dnsRelays.put(target, relay);
        }
      }
    }
    return relay;
  }

  /** The address the app asked for, for a UDP loopback endpoint of a flow; else {@code null}. */
  public InetSocketAddress datagramPeer(InetSocketAddress seen) {
    return datagramPeers.get(seen.getPort());
  }

  /** The app closed a datagram socket connected to {@code remote}. */
  public void datagramClosed(InetSocketAddress remote) {
    Long id = datagramFlows.remove(remote.getPort());
    if (id != null && !dnsRelays.containsValue(remote)) {
      datagramPeers.remove(remote.getPort());
      connector.closeFlow(id);
      log.debug("outgoing udp flow " + Long.toHexString(id) + " closed by the app");
    } else if (id != null) {
      datagramFlows.put(remote.getPort(), id); // a shared DNS relay outlives one socket
    }
  }

  private boolean isLoopbackDnsOverTcp(boolean isUdp, InetSocketAddress to) {
    return !isUdp && dns && to.getPort() == 53 && !to.isUnresolved()
        && to.getAddress().isLoopbackAddress();
  }

  private static boolean routable(InetSocketAddress to) {
    return !to.isUnresolved()
        && !to.getAddress().isLoopbackAddress()
        && !to.getAddress().isAnyLocalAddress()
        && !to.getAddress().isMulticastAddress();
  }

  /** The exception the JDK throws for the errno a connect failed with in the target. */
  static IOException exceptionFor(ResponseError error, boolean timed) {
    if (error instanceof ResponseError.RemoteIo io) {
      switch (io.errno()) {
        case Outgoing.ECONNREFUSED:
          return new ConnectException("Connection refused");
        case Outgoing.EHOSTUNREACH:
          return new NoRouteToHostException("No route to host");
        case Outgoing.ENETUNREACH:
          return new SocketException("Network is unreachable");
        case Outgoing.ETIMEDOUT:
          return timed ? new SocketTimeoutException("Connect timed out")
              : new ConnectException("Connection timed out");
        default:
          return new ConnectException(io.message());
      }
    }
    return new ConnectException("mirrord: " + error.describe());
  }
}
