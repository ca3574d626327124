package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one capture task of an agent: a platform thread {@value #THREAD_NAME} reads the {@link
 * PacketSource}, feeds a {@link TcpFlowTracker} and hands each flow to every subscriber of its port
 * at the time its SYN was seen.
 *
 * <pre>
 *  SnifferApi (per client) ──subscribe/unsubscribe──▶ subscriptions (copy-on-write, volatile)
 *                                                      │ kernel filter updated before returning
 *  PacketSource ──▶ thread "mirrord-sniffer" ──▶ TcpFlowTracker ──▶ SnifferSubscriber × N
 * </pre>
 *
 * <p>Data is handed out per batch: the bytes of one connection read in a row (what the source had
 * queued, e.g. one ring block, at most {@value #MAX_BATCH_PACKETS} packets) go to its subscribers
 * as one {@code data} call of at most {@link TcpFlowTracker.Config#maxChunk} bytes, before anything
 * else about that connection. Under load a keep-alive connection sends several requests per batch,
 * and each call costs a message to the client; when the capture is idle a batch is one packet.
 *
 * <p>Subscribing takes effect for connections whose SYN is captured after {@link #subscribe}
 * returns; connections already open are not mirrored. After {@link #unsubscribe} the subscriber
 * gets no further call for that port, not even {@code closed}. Every {@code 30 s}, and when the
 * thread stops, the kernel's counters are read and logged if they changed (dropped packets at WARN:
 * mirrored streams may then be incomplete).
 */
public final class TcpSniffer implements AutoCloseable {
  /**
   * The DSCP of every mirrord agent's pass-through sockets ({@code IP_TOS} / {@code IPV6_TCLASS}
   * {@code 45 << 2}): 45 is in RFC 2474's pool 3 ({@code xxxx01}, experimental or local use), and
   * those packets only travel inside the target's namespace. Packets carrying it are skipped, so a
   * mirroring agent never copies another agent's pass-through of a request it already copied. The
   * price: a client of the target that marks its own packets DSCP 45 is not mirrored.
   */
  public static final int AGENT_DSCP = 45;

  private static final Logger logger = LoggerFactory.getLogger(TcpSniffer.class);

  public static final String THREAD_NAME = "mirrord-sniffer";

  /** How long a read waits: bounds how late the thread notices {@link #close}. */
  static final long POLL_MILLIS = 100;

  /** Packets read before held data is handed out, however busy the capture is. */
  static final int MAX_BATCH_PACKETS = 256;

  private static final long EXPIRE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long STATS_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final PacketSource source;
  private final TcpFlowTracker tracker;
  private final Thread thread;
  private final Object subscriptionLock = new Object();

  /** Port → its subscriptions. Replaced whole under {@link #subscriptionLock}, read lock-free. */
  private volatile Map<Integer, List<Subscription>> subscriptions = Map.of();

  private volatile boolean running = true;

  // Sniffer thread only.
  private final Map<FlowKey, ActiveFlow> activeFlows = new HashMap<>();
  private final List<ActiveFlow> flowsWithHeldData = new ArrayList<>();
  private final int maxChunk;
  private long nextConnectionId = 1;
  private PacketSource.Stats loggedStats = PacketSource.Stats.ZERO;
  private long loggedStatsNanos = System.nanoTime();
  private volatile TcpFlowTracker.Counters counters;

  private TcpSniffer(PacketSource source, TcpFlowTracker.Config config) {
    this.source = source;
    this.maxChunk = config.maxChunk();
    this.tracker = new TcpFlowTracker(config, new Dispatcher());
    this.counters = tracker.counters();
    this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).unstarted(this::run);
  }

  /** Starts the capture thread on {@code source}, which it owns from now on (and closes). */
  public static TcpSniffer start(PacketSource source, TcpFlowTracker.Config config) {
    TcpSniffer sniffer = new TcpSniffer(source, config);
    sniffer.thread.start();
    return sniffer;
  }

  /**
   * Mirrors to {@code subscriber} every connection to {@code port} starting from now. Subscribing
   * twice is a no-op. Throws if the kernel filter can't be updated (the subscription is undone).
   */
  public void subscribe(int port, SnifferSubscriber subscriber) throws IOException {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    synchronized (subscriptionLock) {
      Map<Integer, List<Subscription>> before = subscriptions;
      List<Subscription> current = before.getOrDefault(port, List.of());
      if (current.stream().anyMatch(s -> s.subscriber == subscriber)) {
        return;
      }
      List<Subscription> updated = new ArrayList<>(current);
      updated.add(new Subscription(port, subscriber));
      Map<Integer, List<Subscription>> after = new HashMap<>(before);
      after.put(port, List.copyOf(updated));
      publish(before, after);
    }
  }

  /** Stops mirroring {@code port} to {@code subscriber}; unknown pairs are ignored. */
  public void unsubscribe(int port, SnifferSubscriber subscriber) throws IOException {
    synchronized (subscriptionLock) {
      Map<Integer, List<Subscription>> before = subscriptions;
      Map<Integer, List<Subscription>> after = without(before, port, subscriber);
      if (after != before) {
        publish(before, after);
      }
    }
  }

  /** Stops mirroring every port to {@code subscriber} (its client went away). */
  public void unsubscribeAll(SnifferSubscriber subscriber) throws IOException {
    synchronized (subscriptionLock) {
      Map<Integer, List<Subscription>> before = subscriptions;
      Map<Integer, List<Subscription>> after = before;
      for (int port : before.keySet()) {
        after = without(after, port, subscriber);
      }
      if (after != before) {
        publish(before, after);
      }
    }
  }

  /** Ports with at least one subscriber. */
  public Set<Integer> ports() {
    return Set.copyOf(subscriptions.keySet());
  }

  /** The tracker's counters, refreshed about once a second. */
  public TcpFlowTracker.Counters counters() {
    return counters;
  }

  /** The capture socket's counters. */
  public PacketSource.Stats sourceStats() throws IOException {
    return source.stats();
  }

  /**
   * Stops the thread (within about {@link #POLL_MILLIS} ms unless a subscriber blocks) and closes
   * the source. Subscribers get no {@code closed} calls for flows still open.
   */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      logger.warn(
          "{} did not stop within 5 s (a subscriber blocks?); closing its socket anyway",
          THREAD_NAME);
    }
    try {
      source.close();
    } catch (IOException e) {
      logger.debug("closing the packet source failed", e);
    }
  }

  /** Installs {@code after}, then the kernel filter; on failure puts {@code before} back. */
  private void publish(
      Map<Integer, List<Subscription>> before, Map<Integer, List<Subscription>> after)
      throws IOException {
    // Published before the filter changes: any packet the new filter lets through is read after
    // this write, so the sniffer thread sees the new subscriptions when it processes the packet.
    subscriptions = Map.copyOf(after);
    if (before.keySet().equals(after.keySet())) {
      return;
    }
    try {
      source.setPorts(after.keySet());
    } catch (IOException | RuntimeException e) {
      subscriptions = before;
      throw e;
    }
    logger.debug("capturing TCP ports {}", after.keySet());
  }

  private static Map<Integer, List<Subscription>> without(
      Map<Integer, List<Subscription>> map, int port, SnifferSubscriber subscriber) {
    List<Subscription> current = map.get(port);
    if (current == null || current.stream().noneMatch(s -> s.subscriber == subscriber)) {
      return map;
    }
    List<Subscription> remaining =
        current.stream().filter(s -> s.subscriber != subscriber).toList();
    Map<Integer, List<Subscription>> after = new HashMap<>(map);
    if (remaining.isEmpty()) {
      after.remove(port);
    } else {
      after.put(port, remaining);
    }
    return after;
  }

  private void run() {
    Map<Integer, List<Subscription>> applied = null;
    long lastExpire = System.nanoTime();
    long lastStats = lastExpire;
    int failures = 0;
    int batch = 0;
    while (running) {
      CapturedPacket packet;
      try {
        // While data is held, only take what is queued already: the batch ends when that runs out.
        packet = source.next(flowsWithHeldData.isEmpty() ? POLL_MILLIS : 0);
        failures = 0;
      } catch (IOException | RuntimeException e) {
        handOutHeldData();
        if (!running) {
          break;
        }
        // Logged once per run of failures; the pause keeps a persistent error from spinning.
        if (failures++ == 0) {
          logger.warn("reading captured packets failed: {}; retrying every second", e.toString());
        }
        pause();
        continue;
      }
      // Checked after the read: see publish().
      Map<Integer, List<Subscription>> current = subscriptions;
      if (current != applied) {
        tracker.setPorts(current.keySet());
        applied = current;
      }
      if (packet != null) {
        try {
          tracker.onPacket(
              packet.data(),
              packet.type() == CapturedPacket.PacketType.OUTGOING,
              packet.timestampNanos());
        } catch (RuntimeException e) {
          logger.warn("failed to process a captured packet; skipped", e);
        }
      }
      if (packet == null || ++batch >= MAX_BATCH_PACKETS) {
        handOutHeldData();
        batch = 0;
      }
      long now = System.nanoTime();
      if (now - lastExpire >= EXPIRE_EVERY_NANOS) {
        lastExpire = now;
        tracker.expire(now);
        counters = tracker.counters();
      }
      if (now - lastStats >= STATS_EVERY_NANOS) {
        lastStats = now;
        logStats(now);
      }
    }
    handOutHeldData();
    logStats(System.nanoTime()); // the last window too: a short session may lose packets unseen
    logger.debug("{} stopped", THREAD_NAME);
  }

  /** Ends the batch: every connection's held bytes go to its subscribers. */
  private void handOutHeldData() {
    for (ActiveFlow active : flowsWithHeldData) {
      active.listed = false;
      handOut(active);
    }
    flowsWithHeldData.clear();
  }

  /** Gives {@code active}'s held bytes, as one array, to its subscribers that are still active. */
  private void handOut(ActiveFlow active) {
    if (active.heldBytes == 0) {
      return;
    }
    byte[] bytes;
    if (active.held.size() == 1) {
      bytes = active.held.getFirst();
    } else {
      bytes = new byte[active.heldBytes];
      int at = 0;
      for (byte[] piece : active.held) {
        System.arraycopy(piece, 0, bytes, at, piece.length);
        at += piece.length;
      }
    }
    active.held.clear();
    active.heldBytes = 0;
    Map<Integer, List<Subscription>> current = subscriptions;
    for (Subscription s : active.subscribers) {
      if (s.activeIn(current)) {
        call(s, () -> s.subscriber.data(active.connectionId, bytes));
      }
    }
  }

  private void logStats(long now) {
    PacketSource.Stats stats;
    try {
      stats = source.stats();
    } catch (IOException e) {
      logger.debug("reading capture statistics failed", e);
      return;
    }
    if (stats.equals(loggedStats)) {
      return;
    }
    long dropped = stats.dropped() - loggedStats.dropped();
    long truncated = stats.truncated() - loggedStats.truncated();
    if (dropped > 0 || truncated > 0) {
      logger.warn(
          "packet capture lost {} packets in the last {} s ({} dropped by the kernel, {}"
              + " too large, ring full {} times; totals: {} received, {} dropped); mirrored"
              + " connections may be cut",
          dropped + truncated,
          TimeUnit.NANOSECONDS.toSeconds(now - loggedStatsNanos + 500_000_000L),
          dropped,
          truncated,
          stats.ringFreezes() - loggedStats.ringFreezes(),
          stats.received(),
          stats.dropped());
    } else {
      logger.debug(
          "packet capture: {} received, {} dropped; tracker {}",
          stats.received(),
          stats.dropped(),
          counters);
    }
    loggedStats = stats;
    loggedStatsNanos = now;
  }

  private void pause() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  /** Calls {@code subscriber}; if it throws, logs and unsubscribes it from everything. */
  private void call(Subscription subscription, Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      logger.warn("sniffer subscriber {} failed; unsubscribing it", subscription.subscriber, e);
      try {
        unsubscribeAll(subscription.subscriber);
      } catch (IOException | UncheckedIOException unsubscribeFailed) {
        logger.warn("unsubscribing a failed subscriber failed: {}", unsubscribeFailed.toString());
      }
    }
  }

  /** A subscriber's interest in one port. Compared by identity: re-subscribing makes a new one. */
  private static final class Subscription {
    final int port;
    final SnifferSubscriber subscriber;

    Subscription(int port, SnifferSubscriber subscriber) {
      this.port = port;
      this.subscriber = subscriber;
    }

    /** Still subscribed, as of {@code current}: events stop right after an unsubscribe. */
    boolean activeIn(Map<Integer, List<Subscription>> current) {
      List<Subscription> list = current.get(port);
      if (list == null) {
        return false;
      }
      for (Subscription s : list) {
        if (s == this) {
          return true;
        }
      }
      return false;
    }
  }

  /** A flow that was handed to subscribers: its id, who got it, and its bytes of this batch. */
  private static final class ActiveFlow {
    final long connectionId;
    final List<Subscription> subscribers;

    /** Bytes read in this batch, not handed out yet, in stream order. */
    final List<byte[]> held = new ArrayList<>(4);

    int heldBytes;

    /** In {@link #flowsWithHeldData}. */
    boolean listed;

    ActiveFlow(long connectionId, List<Subscription> subscribers) {
      this.connectionId = connectionId;
      this.subscribers = subscribers;
    }
  }

  /** Turns tracker events into subscriber calls, on the sniffer thread. */
  private final class Dispatcher implements TcpFlowTracker.Listener {
    @Override
    public void opened(FlowKey flow) {
      List<Subscription> subscribers = subscriptions.get(flow.destinationPort());
      if (subscribers == null || subscribers.isEmpty()) {
        return;
      }
      long id = nextConnectionId++;
      activeFlows.put(flow, new ActiveFlow(id, subscribers));
      logger.debug("connection {}: {}", id, flow);
      for (Subscription s : subscribers) {
        call(s, () -> s.subscriber.newConnection(id, flow));
      }
    }

    @Override
    public void data(FlowKey flow, byte[] bytes) {
      ActiveFlow active = activeFlows.get(flow);
      if (active == null) {
        return;
      }
      if (active.heldBytes + bytes.length > maxChunk) {
        handOut(active);
      }
      active.held.add(bytes);
      active.heldBytes += bytes.length;
      if (!active.listed) {
        active.listed = true;
        flowsWithHeldData.add(active);
      }
    }

    @Override
    public void closed(FlowKey flow, boolean reset) {
      end(flow, reset);
    }

    @Override
    public void dropped(FlowKey flow, String reason) {
      ActiveFlow active = activeFlows.get(flow);
      if (active != null) {
        logger.debug("connection {} ({}) dropped: {}", active.connectionId, flow, reason);
      }
      end(flow, true);
    }

    private void end(FlowKey flow, boolean reset) {
      ActiveFlow active = activeFlows.remove(flow);
      if (active == null) {
        return;
      }
      handOut(active); // its last bytes come before the end (it stays listed, with nothing held)
      Map<Integer, List<Subscription>> current = subscriptions;
      for (Subscription s : active.subscribers) {
        if (s.activeIn(current)) {
          call(s, () -> s.subscriber.closed(active.connectionId, reset));
        }
      }
    }
  }
}
