package dev.mirrord.jvm.layer.socket;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * The real peers of connections the CLI makes to the app. The CLI connects to the app from its
 * session's own loopback address ({@link RelaySource}) and tells the layer (a {@code
 * Tcp.IncomingPeer}) which target client that source port stands for, before it connects; the
 * hooks then show the app that client as the peer, as if the connection had reached it directly.
 * The app's sockets connected to an outgoing flow's loopback endpoint show the address the app
 * asked for ({@link #record(InetSocketAddress, InetSocketAddress)}, known before the connect).
 *
 * <p>The decision, per lookup:
 *
 * <ol>
 *   <li>a peer that is not the CLI's ({@link RelaySource#matches}, or an outgoing endpoint's
 *       address): not relayed, answered at once, nothing looked up. The developer's own {@code curl
 *       http://127.0.0.1:8080/} never waits;
 *   <li>a relay whose mapping is known and open: that;
 *   <li>a known mapping whose relay already closed: a mirrored request is often fully received
 *       (and its relay closed) before the app asks who sent it, so the mapping lingers for {@link
 *       #LINGER_MILLIS}; but the port may have been reused by a new relay whose mapping is still
 *       in the layer's socket. The lookup first lets the layer's connection read what it has
 *       ({@link InboundDrain}, one event-loop round trip, only on this path), then answers;
 *   <li>no mapping, on a subscribed port: the message and the connection travel separately (the
 *       CLI connects once the message is written, but the layer may not have read it yet), so the
 *       lookup waits up to {@link #WAIT_MILLIS} for it; a miss is remembered for {@link
 *       #MISS_MEMORY_MILLIS}. Only relays can get here, and their mapping is always on its way.
 * </ol>
 */
public final class PeerOps {
  static final long WAIT_MILLIS = 1000;
  static final long MISS_MEMORY_MILLIS = 10_000;

  /** How long a lookup that found a closed relay's mapping lets the connection catch up. */
  static final long DRAIN_MILLIS = 100;

  /**
   * How long a relay's mapping outlives the relay: a mirrored request is often fully received (and
   * its relay closed) before the app's server thread asks who sent it.
   */
  static final long LINGER_MILLIS = 60_000;

  /** Lets the layer's connection to the CLI read and handle what already reached its socket. */
  @FunctionalInterface
  public interface InboundDrain {
    /** Returns once what was in the socket is handled, or after {@code timeoutMillis}. */
    void await(long timeoutMillis);

    InboundDrain NONE = timeoutMillis -> {};
  }

  private final Map<Integer, InetSocketAddress> peers = new ConcurrentHashMap<>();
  /** Relay ports whose relay closed, with the time it did (System.nanoTime). */
  private final Map<Integer, Long> closedAt = new ConcurrentHashMap<>();
  private static final long PURGE_INTERVAL_NANOS = 1_000_000_000L;
  /** When {@link #closedAt} was last purged of relays past their linger (System.nanoTime). */
  private final AtomicLong lastPurge = new AtomicLong(System.nanoTime());
  /** Ports looked up in vain, with the time of the miss (System.nanoTime). */
  private final Map<Integer, Long> misses = new ConcurrentHashMap<>();
  /** Addresses of outgoing flows' loopback endpoints (the relay address, with a current CLI). */
  private final Set<InetAddress> flowAddresses = ConcurrentHashMap.newKeySet();
  private final RelaySource relays;
  private final IntPredicate subscribedLocalPort;
  private final InboundDrain drain;
  private final LayerLog log;

  public PeerOps(
      RelaySource relays, IntPredicate subscribedLocalPort, InboundDrain drain, LayerLog log) {
    this.relays = relays;
    this.subscribedLocalPort = subscribedLocalPort;
    this.drain = drain;
    this.log = log;
  }

  /** An outgoing flow: the app's socket connected to {@code endpoint} stands for {@code requested}. */
  public void record(InetSocketAddress endpoint, InetSocketAddress requested) {
    flowAddresses.add(endpoint.getAddress());
    record(endpoint.getPort(), requested);
  }

  /** The CLI's socket on {@code cliPort} relays {@code real}; {@code null} forgets it. */
  public void record(int cliPort, InetSocketAddress real) {
    if (log.isDebugEnabled()) {
      log.debug("relay port " + cliPort + (real == null ? " closed" : " stands for " + real));
    }
    long now = System.nanoTime();
    if (real == null) {
      closedAt.put(cliPort, now);
    } else {
      peers.put(cliPort, real);
      closedAt.remove(cliPort);
      misses.remove(cliPort);
    }
    // Forget relays closed long ago (their ports may be reused by anything). At most once a second:
    // every flow's end is recorded here, on a busy app's connect path, and lookups check the linger
    // themselves.
    long last = lastPurge.get();
    if (now - last > PURGE_INTERVAL_NANOS && lastPurge.compareAndSet(last, now)) {
      closedAt.entrySet().removeIf(e -> {
        if (now - e.getValue() > LINGER_MILLIS * 1_000_000) {
          peers.remove(e.getKey());
          return true;
        }
        return false;
      });
    }
    synchronized (this) {
      notifyAll();
    }
  }

  /** Whether {@code seen} may be a connection the CLI made: only those are looked up. */
  public boolean fromCli(InetSocketAddress seen) {
    return relays.matches(seen) || (!flowAddresses.isEmpty() && flowAddresses.contains(seen.getAddress()));
  }

  /** The real peer for a socket whose peer is {@code seen}, or {@code null} if mirrord made no such connection. */
  public InetSocketAddress realPeer(int appLocalPort, InetSocketAddress seen) {
    if (!fromCli(seen)) {
      return null;
    }
    int port = seen.getPort();
    InetSocketAddress real = peers.get(port);
    Long closed = closedAt.get(port);
    if (real != null && closed == null) {
      return real;
    }
    if (real != null && System.nanoTime() - closed <= LINGER_MILLIS * 1_000_000) {
      drain.await(DRAIN_MILLIS);
      InetSocketAddress now = peers.get(port);
      return now != null ? now : real;
    }
    if (!subscribedLocalPort.test(appLocalPort)) {
      return null; // an outgoing flow's mapping is recorded before its connect
    }
    return awaitRecord(appLocalPort, seen);
  }

  private InetSocketAddress awaitRecord(int appLocalPort, InetSocketAddress seen) {
    int port = seen.getPort();
    Long missedAt = misses.get(port);
    if (missedAt != null && System.nanoTime() - missedAt < MISS_MEMORY_MILLIS * 1_000_000) {
      return null;
    }
    long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
    InetSocketAddress real;
    synchronized (this) {
      while ((real = peers.get(port)) == null || isExpired(port)) {
        long leftNanos = deadline - System.nanoTime();
        if (leftNanos <= 0) {
          log.warn("no mapping from mirrord for relay " + seen + " on local port " + appLocalPort
              + " within " + WAIT_MILLIS + " ms; the app sees the relay's address");
          misses.put(port, System.nanoTime());
          return null;
        }
        try {
          wait((leftNanos + 999_999) / 1_000_000); // rounded up: never gives up before the whole wait
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
    }
    return real;
  }

  private boolean isExpired(int port) {
    Long closed = closedAt.get(port);
    return closed != null && System.nanoTime() - closed > LINGER_MILLIS * 1_000_000;
  }
}
