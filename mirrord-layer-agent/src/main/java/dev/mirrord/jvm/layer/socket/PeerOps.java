package dev.mirrord.jvm.layer.socket;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * The real peers of connections the CLI relays to the app. The CLI connects to the app from
 * {@code 127.0.0.1:<port>} and tells the layer (a {@code Tcp.IncomingPeer}) which target client
 * that port stands for, before it connects; the hooks then show the app that client as the peer,
 * as if the connection had reached it directly.
 *
 * <p>The message and the connection travel separately (the CLI connects once the message is
 * written, but the layer may not have read it yet), so a lookup for a port that is not known yet
 * waits up to {@link #WAIT_MILLIS}; only for sockets accepted on a subscribed port, so the app's
 * own loopback connections never wait, and only once per port: a miss is remembered for {@link
 * #MISS_MEMORY_MILLIS}, so an app that asks for the peer many times pays at most once.
 */
public final class PeerOps {
  static final long WAIT_MILLIS = 1000;
  static final long MISS_MEMORY_MILLIS = 10_000;

  /**
   * How long a relay's mapping outlives the relay: a mirrored request is often fully received (and
   * its relay closed) before the app's server thread asks who sent it.
   */
  static final long LINGER_MILLIS = 60_000;

  private final Map<Integer, InetSocketAddress> peers = new ConcurrentHashMap<>();
  /** Relay ports whose relay closed, with the time it did (System.nanoTime). */
  private final Map<Integer, Long> closedAt = new ConcurrentHashMap<>();
  private static final long PURGE_INTERVAL_NANOS = 1_000_000_000L;
  /** When {@link #closedAt} was last purged of relays past their linger (System.nanoTime). */
  private final AtomicLong lastPurge = new AtomicLong(System.nanoTime());
  /** Ports looked up in vain, with the time of the miss (System.nanoTime). */
  private final Map<Integer, Long> misses = new ConcurrentHashMap<>();
  private final IntPredicate subscribedLocalPort;
  private final LayerLog log;

  public PeerOps(IntPredicate subscribedLocalPort, LayerLog log) {
    this.subscribedLocalPort = subscribedLocalPort;
    this.log = log;
  }

  /** The CLI's socket on {@code cliPort} relays {@code real}; {@code null} forgets it. */
  public void record(int cliPort, InetSocketAddress real) {
    log.debug("relay port " + cliPort + (real == null ? " closed" : " stands for " + real));
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

  /** The real peer for an accepted socket, or {@code null} if it was not relayed by mirrord. */
  public InetSocketAddress realPeer(int appLocalPort, InetSocketAddress seen) {
    Long closed = closedAt.get(seen.getPort());
    if (closed != null && System.nanoTime() - closed > LINGER_MILLIS * 1_000_000) {
      return null;
    }
    InetSocketAddress real = peers.get(seen.getPort());
    if (real != null || !subscribedLocalPort.test(appLocalPort)) {
      return real;
    }
    Long missedAt = misses.get(seen.getPort());
    if (missedAt != null && System.nanoTime() - missedAt < MISS_MEMORY_MILLIS * 1_000_000) {
      return null;
    }
    long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000;
    synchronized (this) {
      while ((real = peers.get(seen.getPort())) == null) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          log.debug("no relayed peer for " + seen + " on local port " + appLocalPort);
          misses.put(seen.getPort(), System.nanoTime());
          return null;
        }
        try {
          wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
    }
    return real;
  }
}
