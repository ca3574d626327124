package dev.mirrord.jvm.podagent.sniffer;

import dev.mirrord.jvm.protocol.Tcp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Rebuilds the client-to-server byte stream of every TCP connection to a subscribed port from
 * captured segments, the way the target's TCP stack would: in order, each byte exactly once, the
 * first copy of a byte winning when retransmissions overlap with other data.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>A flow starts with the client's SYN (without ACK) arriving to a subscribed port. Segments
 *       of connections opened before (their SYN was never seen) are counted as untracked and
 *       ignored: their stream can't be told from its middle.
 *   <li>Sequence numbers are compared modulo 2<sup>32</sup> against the next expected one, and
 *       turned into 64-bit stream offsets, so wrap-around and streams over 4 GiB are plain.
 *   <li>The client's FIN ends the flow ({@code closed(false)}) once every byte before it arrived;
 *       the server's FIN alone doesn't (the client may still send after a half-close). An RST from
 *       either side ends it at once ({@code closed(true)}).
 *   <li>A flow is {@code dropped} (and forgotten) when its stream can't be completed: the capture
 *       missed bytes that the server acknowledged, its out-of-order buffer passed {@link
 *       Config#maxBufferedBytesPerFlow} (or all flows together passed {@link
 *       Config#maxBufferedBytesTotal}), a gap stayed open for {@link Config#gapTimeout}, or the
 *       flow was idle for {@link Config#idleTimeout}.
 *   <li>At most {@link Config#maxFlows} flows at a time; further SYNs are counted as rejected.
 * </ul>
 *
 * <p>Not thread-safe: one thread (the sniffer's) calls {@link #onPacket}, {@link #expire} and
 * {@link #setPorts}, and gets the {@link Listener} calls, synchronously.
 */
public final class TcpFlowTracker {

  /** What the tracker reports, on the thread that fed it. */
  public interface Listener {
    /** A client's SYN to a subscribed port was seen. */
    void opened(FlowKey flow);

    /** The next bytes of the client's stream, at most {@link Config#maxChunk} of them. */
    void data(FlowKey flow, byte[] bytes);

    /** The flow ended: every byte up to the client's FIN was delivered, or an RST was seen. */
    void closed(FlowKey flow, boolean reset);

    /** The flow is forgotten before its end, for {@code reason}; its stream is incomplete. */
    void dropped(FlowKey flow, String reason);
  }

  /** Limits; {@link #defaults()} suits a pod agent. */
  public record Config(
      int maxFlows,
      int maxBufferedBytesPerFlow,
      long maxBufferedBytesTotal,
      Duration gapTimeout,
      Duration idleTimeout,
      int maxChunk) {

    public Config {
      if (maxFlows < 1
          || maxBufferedBytesPerFlow < 1
          || maxBufferedBytesTotal < 1
          || maxChunk < 1) {
        throw new IllegalArgumentException("limits must be positive");
      }
      Objects.requireNonNull(gapTimeout);
      Objects.requireNonNull(idleTimeout);
    }

    /**
     * 10 000 flows, 1 MiB out-of-order per flow and 64 MiB in all, gaps given 10 s (a client
     * retransmits a lost segment well within that unless the path is dead), 10 min of idleness
     * (long-lived idle connections such as pools would otherwise be held forever after a missed
     * FIN), data in chunks of {@link Tcp#MAX_CHUNK}.
     */
    public static Config defaults() {
      return new Config(
          10_000,
          1 << 20,
          64L << 20,
          Duration.ofSeconds(10),
          Duration.ofMinutes(10),
          Tcp.MAX_CHUNK);
    }

    public Config withMaxFlows(int value) {
      return new Config(
          value, maxBufferedBytesPerFlow, maxBufferedBytesTotal, gapTimeout, idleTimeout, maxChunk);
    }

    public Config withMaxBufferedBytes(int perFlow, long total) {
      return new Config(maxFlows, perFlow, total, gapTimeout, idleTimeout, maxChunk);
    }

    public Config withTimeouts(Duration gap, Duration idle) {
      return new Config(
          maxFlows, maxBufferedBytesPerFlow, maxBufferedBytesTotal, gap, idle, maxChunk);
    }

    public Config withMaxChunk(int value) {
      return new Config(
          maxFlows, maxBufferedBytesPerFlow, maxBufferedBytesTotal, gapTimeout, idleTimeout, value);
    }
  }

  /** Counters since creation, for logs and tests. */
  public record Counters(
      long packets,
      long notTcp,
      long fragments,
      long ipv6ExtensionHeaders,
      long malformed,
      long agentPassThrough,
      long untrackedSegments,
      long duplicateSegments,
      long outOfWindowSegments,
      long flowsOpened,
      long flowsClosed,
      long flowsDropped,
      long flowsRejected,
      int activeFlows,
      long bufferedBytes) {}

  /**
   * Segments more than this far from the next expected byte (either way) belong to no plausible
   * window of this flow: an old incarnation, or garbage. TCP windows are at most 1 GiB.
   */
  private static final int WINDOW = 1 << 30;

  private final Config config;
  private final Listener listener;
  private final long gapTimeoutNanos;
  private final long idleTimeoutNanos;
  private final Map<FlowKey, Flow> flows = new HashMap<>();
  private Set<Integer> ports = Set.of();
  private long bufferedBytes;

  private long packets;
  private long notTcp;
  private long fragments;
  private long ipv6ExtensionHeaders;
  private long malformed;
  private long agentPassThrough;
  private long untrackedSegments;
  private long duplicateSegments;
  private long outOfWindowSegments;
  private long flowsOpened;
  private long flowsClosed;
  private long flowsDropped;
  private long flowsRejected;

  public TcpFlowTracker(Config config, Listener listener) {
    this.config = config;
    this.listener = listener;
    this.gapTimeoutNanos = config.gapTimeout().toNanos();
    this.idleTimeoutNanos = config.idleTimeout().toNanos();
  }

  /**
   * Ports whose new flows are tracked from now on. Flows to ports no longer in the set are dropped
   * (reason "port unsubscribed").
   */
  public void setPorts(Set<Integer> newPorts) {
    ports = Set.copyOf(newPorts);
    List<Flow> gone = new ArrayList<>();
    for (Flow flow : flows.values()) {
      if (!ports.contains(flow.key.destinationPort())) {
        gone.add(flow);
      }
    }
    for (Flow flow : gone) {
      drop(flow, "port unsubscribed");
    }
  }

  /** Feeds one arriving IP packet (network header first) seen at {@code nowNanos}. */
  public void onPacket(byte[] packet, long nowNanos) {
    onPacket(packet, false, nowNanos);
  }

  /**
   * Feeds one captured IP packet (network header first) seen at {@code nowNanos}. An {@code
   * outgoing} SYN is the target connecting out to someone else's port: it opens no flow, since
   * mirror mode copies connections made to the target.
   */
  public void onPacket(byte[] packet, boolean outgoing, long nowNanos) {
    packets++;
    switch (TcpSegment.parse(packet, packet.length)) {
      case TcpSegment segment -> onSegment(segment, outgoing, nowNanos);
      case ParsedPacket.Skipped.NOT_IP, ParsedPacket.Skipped.NOT_TCP -> notTcp++;
      case ParsedPacket.Skipped.FRAGMENT -> fragments++;
      case ParsedPacket.Skipped.IPV6_EXTENSION_HEADERS -> ipv6ExtensionHeaders++;
      case ParsedPacket.Skipped.MALFORMED -> malformed++;
      case ParsedPacket.Skipped.AGENT_PASS_THROUGH -> agentPassThrough++;
    }
  }

  /**
   * Drops flows whose gap stayed open for {@link Config#gapTimeout} and flows idle for {@link
   * Config#idleTimeout}. Call about once a second; it walks every flow.
   */
  public void expire(long nowNanos) {
    List<Flow> stale = new ArrayList<>();
    for (Flow flow : flows.values()) {
      if (nowNanos - flow.lastActivityNanos >= idleTimeoutNanos
          || (flow.waiting() && nowNanos - flow.waitingSinceNanos >= gapTimeoutNanos)) {
        stale.add(flow);
      }
    }
    for (Flow flow : stale) {
      if (flow.waiting() && nowNanos - flow.waitingSinceNanos >= gapTimeoutNanos) {
        drop(
            flow,
            "missing bytes at stream offset "
                + flow.delivered
                + " for over "
                + config.gapTimeout().toSeconds()
                + " s");
      } else {
        drop(flow, "idle for " + config.idleTimeout().toSeconds() + " s");
      }
    }
  }

  public int activeFlows() {
    return flows.size();
  }

  public Counters counters() {
    return new Counters(
        packets,
        notTcp,
        fragments,
        ipv6ExtensionHeaders,
        malformed,
        agentPassThrough,
        untrackedSegments,
        duplicateSegments,
        outOfWindowSegments,
        flowsOpened,
        flowsClosed,
        flowsDropped,
        flowsRejected,
        flows.size(),
        bufferedBytes);
  }

  private void onSegment(TcpSegment segment, boolean outgoing, long now) {
    Flow flow = flows.get(segment.key());
    if (flow != null) {
      onClientSegment(flow, segment, now);
      return;
    }
    Flow reverse = flows.get(segment.key().reversed());
    if (reverse != null) {
      onServerSegment(reverse, segment, now);
      return;
    }
    if (!outgoing && isClientSyn(segment) && ports.contains(segment.key().destinationPort())) {
      open(segment, now);
      return;
    }
    untrackedSegments++;
  }

  private static boolean isClientSyn(TcpSegment segment) {
    return segment.has(TcpSegment.SYN) && !segment.has(TcpSegment.ACK);
  }

  private void open(TcpSegment syn, long now) {
    if (flows.size() >= config.maxFlows()) {
      flowsRejected++;
      return;
    }
    Flow flow = new Flow(syn.key(), syn.seq(), now);
    flows.put(flow.key, flow);
    flowsOpened++;
    listener.opened(flow.key);
    onClientSegment(flow, syn, now);
  }

  private void onClientSegment(Flow flow, TcpSegment segment, long now) {
    flow.lastActivityNanos = now;
    if (segment.has(TcpSegment.RST)) {
      finish(flow, true);
      return;
    }
    int dataSeq = segment.seq();
    if (segment.has(TcpSegment.SYN)) {
      if (segment.seq() != flow.isn) {
        // A new connection reusing the 4-tuple: the old one ended without a FIN we saw.
        drop(flow, "superseded by a new SYN");
        if (isClientSyn(segment) && ports.contains(segment.key().destinationPort())) {
          open(segment, now);
        }
        return;
      }
      dataSeq += 1; // the SYN occupies one sequence number; TCP Fast Open data follows it
    }
    boolean wasWaiting = flow.waiting();
    long deliveredBefore = flow.delivered;
    if (segment.payloadLength() > 0 && !accept(flow, dataSeq, segment)) {
      return; // dropped
    }
    if (segment.has(TcpSegment.FIN) && !flow.clientFin) {
      flow.clientFin = true;
      flow.clientFinSeq = dataSeq + segment.payloadLength();
      discardPendingAfter(flow, flow.delivered + (flow.clientFinSeq - flow.nextSeq));
    }
    if (flow.clientFin && flow.nextSeq == flow.clientFinSeq) {
      finish(flow, false);
      return;
    }
    // The gap clock runs from when bytes started missing, and restarts whenever the stream moves.
    if (flow.waiting() && (!wasWaiting || flow.delivered != deliveredBefore)) {
      flow.waitingSinceNanos = now;
    }
  }

  /**
   * The target server's side matters only for how the flow ends: its RST, and its ACKs, which prove
   * whether the capture lost client bytes that will never be retransmitted.
   */
  private void onServerSegment(Flow flow, TcpSegment segment, long now) {
    flow.lastActivityNanos = now;
    if (segment.has(TcpSegment.RST)) {
      finish(flow, true);
      return;
    }
    if (segment.has(TcpSegment.ACK)) {
      // The server can only acknowledge bytes it received, and the capture queues a client
      // segment before the stack processes it, so an ACK beyond what we have means a lost packet.
      int ahead = segment.ack() - flow.nextSeq;
      if (ahead > 0 && ahead < WINDOW) {
        drop(flow, "the server acknowledged " + ahead + " bytes the capture never saw");
        return;
      }
    }
    // The server's FIN changes nothing: the client may keep sending after a half-close, and the
    // flow ends with the client's own FIN (or is dropped once the server ACKs one we missed).
  }

  /**
   * Takes the payload of a client segment that starts at sequence number {@code seq}. Returns false
   * if the flow was dropped.
   */
  private boolean accept(Flow flow, int seq, TcpSegment segment) {
    int length = segment.payloadLength();
    if (flow.clientFin) {
      // Bytes after the FIN can't be part of the stream.
      int room = flow.clientFinSeq - seq;
      if (room <= 0) {
        duplicateSegments++;
        return true;
      }
      length = Math.min(length, room);
    }
    int distance = seq - flow.nextSeq; // modulo 2^32, as a signed difference
    if (distance >= WINDOW || distance <= -WINDOW) {
      outOfWindowSegments++;
      return true;
    }
    long start = flow.delivered + distance;
    long end = start + length;
    if (end <= flow.delivered) {
      duplicateSegments++;
      return true;
    }
    int skip = (int) Math.max(0, flow.delivered - start);
    start += skip;
    if (flow.pending.isEmpty() && start == flow.delivered) {
      // The common case: the next bytes, nothing buffered. No copy into the buffer.
      deliver(flow, segment, skip, (int) (end - start));
      return true;
    }
    if (!buffer(flow, segment, skip, start, end)) {
      return false;
    }
    drain(flow);
    return true;
  }

  /**
   * Stores the parts of {@code [start, end)} that no buffered segment covers yet: the first copy of
   * a byte wins, as in Linux and BSD stacks. Returns false if the flow was dropped for memory.
   */
  private boolean buffer(Flow flow, TcpSegment segment, int skip, long start, long end) {
    long position = start;
    long added = 0;
    boolean stored = false;
    while (position < end) {
      Map.Entry<Long, byte[]> floor = flow.pending.floorEntry(position);
      if (floor != null && floor.getKey() + floor.getValue().length > position) {
        position = floor.getKey() + floor.getValue().length;
        continue;
      }
      Long next = flow.pending.higherKey(position);
      long pieceEnd = next == null ? end : Math.min(end, next);
      int from = skip + (int) (position - start);
      flow.pending.put(position, segment.payload(from, (int) (pieceEnd - position)));
      added += pieceEnd - position;
      stored = true;
      position = pieceEnd;
    }
    if (!stored) {
      duplicateSegments++;
      return true;
    }
    flow.pendingBytes += added;
    bufferedBytes += added;
    if (flow.pendingBytes > config.maxBufferedBytesPerFlow()) {
      drop(flow, "out-of-order buffer over " + config.maxBufferedBytesPerFlow() + " bytes");
      return false;
    }
    if (bufferedBytes > config.maxBufferedBytesTotal()) {
      drop(
          flow,
          "out-of-order buffers of all flows over " + config.maxBufferedBytesTotal() + " bytes");
      return false;
    }
    return true;
  }

  /** Forgets buffered bytes at or after stream offset {@code end}: nothing follows a FIN. */
  private void discardPendingAfter(Flow flow, long end) {
    while (!flow.pending.isEmpty()
        && flow.pending.lastKey() + flow.pending.lastEntry().getValue().length > end) {
      Map.Entry<Long, byte[]> last = flow.pending.pollLastEntry();
      int keep = (int) Math.max(0, end - last.getKey());
      int removed = last.getValue().length - keep;
      flow.pendingBytes -= removed;
      bufferedBytes -= removed;
      if (keep > 0) {
        flow.pending.put(last.getKey(), Arrays.copyOf(last.getValue(), keep));
        break;
      }
    }
  }

  /** Delivers buffered segments that now continue the stream. */
  private void drain(Flow flow) {
    while (!flow.pending.isEmpty() && flow.pending.firstKey() == flow.delivered) {
      byte[] bytes = flow.pending.pollFirstEntry().getValue();
      flow.pendingBytes -= bytes.length;
      bufferedBytes -= bytes.length;
      emit(flow, bytes, 0, bytes.length);
    }
  }

  private void deliver(Flow flow, TcpSegment segment, int from, int length) {
    emit(flow, segment.packet(), segment.payloadOffset() + from, length);
  }

  private void emit(Flow flow, byte[] source, int offset, int length) {
    flow.delivered += length;
    flow.nextSeq += length;
    int chunk = config.maxChunk();
    for (int at = 0; at < length; at += chunk) {
      int n = Math.min(chunk, length - at);
      byte[] bytes =
          (offset + at == 0 && n == source.length) ? source : copy(source, offset + at, n);
      listener.data(flow.key, bytes);
    }
  }

  private static byte[] copy(byte[] source, int offset, int length) {
    byte[] bytes = new byte[length];
    System.arraycopy(source, offset, bytes, 0, length);
    return bytes;
  }

  private void finish(Flow flow, boolean reset) {
    forget(flow);
    flowsClosed++;
    listener.closed(flow.key, reset);
  }

  private void drop(Flow flow, String reason) {
    forget(flow);
    flowsDropped++;
    listener.dropped(flow.key, reason);
  }

  private void forget(Flow flow) {
    flows.remove(flow.key);
    bufferedBytes -= flow.pendingBytes;
    flow.pendingBytes = 0;
    flow.pending.clear();
  }

  /** One client-to-server stream being rebuilt. */
  private static final class Flow {
    final FlowKey key;
    final int isn;

    /** Sequence number of the next byte to deliver. */
    int nextSeq;

    /** Stream offset of {@link #nextSeq}: bytes delivered so far. */
    long delivered;

    /** Out-of-order bytes by stream offset; ranges never overlap and all start after delivered. */
    final TreeMap<Long, byte[]> pending = new TreeMap<>();

    long pendingBytes;
    boolean clientFin;
    int clientFinSeq;
    long lastActivityNanos;

    /** Since when bytes have been missing before buffered data or the FIN; see {@link #waiting}. */
    long waitingSinceNanos;

    Flow(FlowKey key, int isn, long now) {
      this.key = key;
      this.isn = isn;
      this.nextSeq = isn + 1;
      this.lastActivityNanos = now;
    }

    boolean waiting() {
      return !pending.isEmpty() || (clientFin && nextSeq != clientFinSeq);
    }
  }
}
