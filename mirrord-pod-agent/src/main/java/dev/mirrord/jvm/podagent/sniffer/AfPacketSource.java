package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures IP packets of every interface of the current network namespace from an {@code
 * AF_PACKET}/{@code SOCK_DGRAM} socket ("cooked": the link-layer header is removed, the payload
 * starts at the IP header), through FFM downcalls to libc. Needs {@code CAP_NET_RAW} and {@code
 * --enable-native-access}.
 *
 * <p>Packets are read from a {@code TPACKET_V3} ring mapped into this process ({@link RxRing}: no
 * system call per packet, 8 to 64 MiB for bursts). Where the kernel refuses the ring, {@link #open()}
 * logs that once and falls back to one {@code recvfrom} per packet with an {@value
 * #DEFAULT_RECEIVE_BUFFER}-byte socket buffer, which overflows under a flood. Either way each
 * packet comes with its {@code struct sockaddr_ll} (20 bytes; filled by {@code recvfrom}, or stored
 * after the ring's packet header):
 *
 * <pre>
 *  0         2            4              8          10        11       12            20
 *  +---------+------------+--------------+----------+---------+--------+-------------+
 *  | family  | protocol   |   ifindex    |  hatype  | pkttype | halen  |  addr[8]    |
 *  | u16     | u16 (BE)   |   i32        |  u16     | u8      | u8     |             |
 *  +---------+------------+--------------+----------+---------+--------+-------------+
 * </pre>
 *
 * <p>On the loopback interface every packet is seen twice, once leaving ({@code PACKET_OUTGOING})
 * and once arriving ({@code PACKET_HOST}); the outgoing copy is skipped there. On other interfaces
 * outgoing packets are kept: they carry the target server's FIN, RST and ACKs, which tell the
 * tracker when a flow ends or when the capture lost bytes.
 *
 * <p>Reads wait at most the given timeout ({@code poll} on the ring, {@code SO_RCVTIMEO} for {@code
 * recvfrom}) so the reading thread can notice it should stop; packets larger than {@value
 * #BUFFER_SIZE} bytes (only possible with BIG TCP) are counted as truncated and skipped, since a
 * cut segment can't be reassembled.
 *
 * <p><b>A ring sized to the load.</b> A ring's size is fixed once mapped and all of it counts in
 * the agent's RSS, so the reading thread replaces it with a smaller one after a quiet window, and
 * with a larger one when it falls behind ({@link RingSizing}). The
 * replacement is a second socket, so no packet is lost in the switch and none is seen twice:
 *
 * <pre>
 *  1. new socket: drop-all filter, its queue drained, the new ring mapped, the ports' filter
 *     (from here on every packet lands in both rings)
 *  2. the old socket's counters are read for the last time (what it drops from here on, the new
 *     ring has) and it gets the drop-all filter (from here on packets land only in the new ring)
 *  3. the reader empties the old ring: until it has been empty for {@value #DRAIN_MILLIS} ms (the
 *     kernel hands a partly filled block over after 10), remembering a hash of each packet
 *  4. the old socket is closed (its counters kept); the reader moves to the new ring and skips
 *     the packets it already saw, those that landed in both rings between 1 and 2
 * </pre>
 */
public final class AfPacketSource implements PacketSource {
  private static final Logger logger = LoggerFactory.getLogger(AfPacketSource.class);

  /** The fallback is logged once per agent, not once per socket. */
  private static final AtomicBoolean RING_FAILURE_LOGGED = new AtomicBoolean();

  /** Read buffer: a GSO/GRO super-packet is at most 64 KiB, BIG TCP up to 512 KiB. */
  static final int BUFFER_SIZE = 256 * 1024;

  /** Asked with {@code SO_RCVBUFFORCE}: bursts of a fast client must not overflow the socket. */
  public static final int DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024;

  /** The port {@link #warmUp}'s filter names (TCPMUX: nothing listens there in a pod). */
  private static final int WARM_UP_PORT = 1;

  /** How long the old ring stays empty before a replaced ring is closed (step 3 above). */
  static final int DRAIN_MILLIS = 5 * RxRing.RETIRE_TIMEOUT_MILLIS;

  private static final int SOCKADDR_LL_SIZE = 20;
  private static final ValueLayout.OfShort U16_BE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  /** Lives as long as the socket: read buffer, address and the reader's call state. */
  private final Arena arena = Arena.ofShared();

  private final MemorySegment buffer = arena.allocate(BUFFER_SIZE, 16);
  private final MemorySegment address = arena.allocate(SOCKADDR_LL_SIZE, 8);
  private final MemorySegment addressLength = arena.allocate(ValueLayout.JAVA_INT);
  private final MemorySegment readState = Libc.newCallState(arena);

  /** Guards {@link #fd} against {@link #close} while a control call uses it, and the totals. */
  private final Object lock = new Object();

  private volatile int fd;

  /** The mapped receive ring, or {@code null} when packets are read with {@code recvfrom}. */
  private volatile RxRing ring;

  private long readTimeoutMillis = -1;
  private long totalReceived;
  private long totalDropped;
  private long totalFreezes;
  private volatile long truncated;

  /** The ports of the last {@link #setPorts}, for a replacement socket. */
  private Set<Integer> ports = Set.of();

  // The ring's replacement (see the class comment); the reading thread's, but for what lock guards.
  private final RingSizing sizing;

  /** A replaced ring still being read, and its socket (under lock), or null / -1. */
  private volatile RxRing draining;

  private int drainingFd = -1;
  private long drainUntilNanos;

  /** Hashes of what the replaced ring gave since the new one was attached; null when done. */
  private OverlapFilter overlap;

  private long windowStartNanos = System.nanoTime();
  private long noResizeUntilNanos;

  /** Whether the ring gave a packet yet (the first one grows it, {@link RingSizing#atFirstPacket}). */
  private boolean packetSeen;

  /** Set by {@link #stats()} when the kernel dropped packets; the reader then grows the ring. */
  private volatile boolean dropsSeen;

  private volatile long blocksReleasedBefore;
  private volatile long truncatedBefore;
  private volatile int grown;
  private volatile int shrunk;

  private AfPacketSource(int fd, RingSizing sizing) {
    this.fd = fd;
    this.sizing = sizing;
  }

  /**
   * Opens the socket with a receive ring, or, where the kernel refuses it, with a {@link
   * #DEFAULT_RECEIVE_BUFFER} for {@code recvfrom}; it captures nothing until {@link #setPorts}.
   */
  public static AfPacketSource open() throws IOException {
    AfPacketSource source = openSocket();
    try {
      source.ring = RxRing.map(source.fd, source.sizing.firstBlocks());
      return source;
    } catch (IOException | RuntimeException e) {
      if (RING_FAILURE_LOGGED.compareAndSet(false, true)) {
        logger.warn(
            "no TPACKET_V3 receive ring ({}); capturing with one recvfrom per packet, which may"
                + " drop packets under load",
            e.getMessage());
      }
    }
    return withReceiveBuffer(source, DEFAULT_RECEIVE_BUFFER);
  }

  /**
   * Runs the capture's native calls once, so that the first {@link #open} of a session does not
   * link them while the app waits for its port subscription (a cold agent took 100–300 ms for it,
   * nearly all of it in the foreign-function calls' first use): opens a socket that captures
   * nothing, maps a one-block ring, filters a port, polls once without waiting, reads the
   * statistics, and closes it all. Never throws.
   *
   * @return null if it worked, else why not (no privilege for packet sockets, for example)
   */
  public static String warmUp() {
    try (AfPacketSource source = openSocket()) {
      source.ring = RxRing.map(source.fd, 1);
      source.setPorts(Set.of(WARM_UP_PORT));
      source.next(0);
      source.stats();
      return null;
    } catch (IOException | RuntimeException e) {
      return e.toString();
    }
  }

  /** Opens the socket without a ring: one {@code recvfrom} per packet. */
  public static AfPacketSource openRecvfrom(int receiveBufferBytes) throws IOException {
    return withReceiveBuffer(openSocket(), receiveBufferBytes);
  }

  /** Sets the {@code recvfrom} socket buffer of a fresh source; closes it if that fails. */
  private static AfPacketSource withReceiveBuffer(AfPacketSource source, int bytes)
      throws IOException {
    try {
      source.setReceiveBuffer(bytes);
      return source;
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
    }
  }

  /** Whether packets come from the mapped ring (else from {@code recvfrom}). */
  public boolean usesRing() {
    return ring != null;
  }

  /** Ring blocks read so far (0 without a ring), for tests. */
  long ringBlocksReleased() {
    RxRing mapped = ring;
    RxRing old = draining;
    return blocksReleasedBefore
        + (mapped == null ? 0 : mapped.blocksReleased())
        + (old == null ? 0 : old.blocksReleased());
  }

  /** The current ring's size in MiB (0 without a ring). */
  public int ringMib() {
    RxRing mapped = ring;
    return mapped == null ? 0 : (int) RxRing.mib(mapped.blockCount());
  }

  /** How often the ring was replaced with a larger one. */
  public int ringsGrown() {
    return grown;
  }

  /** How often the ring was replaced with a smaller one. */
  public int ringsShrunk() {
    return shrunk;
  }

  private static AfPacketSource openSocket() throws IOException {
    return new AfPacketSource(newSocket(), RingSizing.fromProperties());
  }

  /**
   * A packet socket that captures nothing yet: the socket captures everything from socket() until
   * a filter is attached, so the drop-all program goes first, then what slipped in meanwhile is
   * thrown away (before any ring exists, so it is all in the socket's queue).
   */
  private static int newSocket() throws IOException {
    int fd;
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      fd =
          Libc.socket(
              state,
              Libc.AF_PACKET,
              Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC,
              Short.toUnsignedInt(htons((short) Libc.ETH_P_ALL)));
      if (fd < 0) {
        throw Libc.failure("socket(AF_PACKET)", state);
      }
      try {
        attachFilter(fd, Set.of());
        drain(fd, call, state);
        // The kernel's counters start at the first read: what it dropped before the filter (the
        // queue full of packets of ports nobody asked for) is not a loss of captured packets.
        readCounters(fd, false, call, state);
        return fd;
      } catch (IOException | RuntimeException e) {
        Libc.close(state, fd);
        throw e;
      }
    }
  }

  @Override
  public CapturedPacket next(long timeoutMillis) throws IOException {
    int socket = fd;
    if (socket < 0) {
      throw new IOException("capture socket closed");
    }
    RxRing mapped = ring;
    if (mapped != null) {
      return nextFromRing(mapped, timeoutMillis);
    }
    int flags = Libc.MSG_TRUNC;
    if (timeoutMillis <= 0) {
      flags |= Libc.MSG_DONTWAIT;
    } else if (timeoutMillis != readTimeoutMillis) {
      setReadTimeout(socket, timeoutMillis);
      readTimeoutMillis = timeoutMillis;
    }
    while (true) {
      addressLength.set(ValueLayout.JAVA_INT, 0, SOCKADDR_LL_SIZE);
      long length =
          Libc.recvfrom(readState, socket, buffer, BUFFER_SIZE, flags, address, addressLength);
      if (length < 0) {
        int errno = Libc.errno(readState);
        if (errno == Libc.EAGAIN || errno == Libc.EINTR) {
          return null;
        }
        throw new ErrnoException("recvfrom", errno, Libc.strerror(errno));
      }
      int pkttype = Byte.toUnsignedInt(address.get(ValueLayout.JAVA_BYTE, 10));
      int hatype = Short.toUnsignedInt(address.get(ValueLayout.JAVA_SHORT, 8));
      CapturedPacket.PacketType type = CapturedPacket.PacketType.of(pkttype);
      if (type == CapturedPacket.PacketType.OUTGOING && hatype == Libc.ARPHRD_LOOPBACK) {
        continue;
      }
      if (length > BUFFER_SIZE) {
        truncated++;
        continue;
      }
      byte[] data = buffer.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
      return new CapturedPacket(
          data,
          Short.toUnsignedInt(address.get(U16_BE, 2)),
          type,
          address.get(ValueLayout.JAVA_INT, 4),
          System.nanoTime());
    }
  }

  /**
   * The ring's next packet: from a replaced ring while it drains, then from the current one without
   * the packets both held; afterwards, replaces the ring if {@link RingSizing} says so.
   */
  private CapturedPacket nextFromRing(RxRing mapped, long timeoutMillis) throws IOException {
    RxRing old = draining;
    if (old != null) {
      CapturedPacket packet = old.next(0);
      if (packet == null) {
        long left = drainUntilNanos - System.nanoTime();
        if (left > 0) {
          if (timeoutMillis <= 0) {
            return null;
          }
          packet = old.next(Math.min(timeoutMillis, left / 1_000_000 + 1));
          if (packet == null && drainUntilNanos - System.nanoTime() > 0) {
            return null;
          }
        }
      }
      if (packet != null) {
        drainUntilNanos = System.nanoTime() + DRAIN_MILLIS * 1_000_000L;
        overlap.record(packet);
        return packet;
      }
      closeDrained();
      timeoutMillis = 0; // the time was spent on the old ring
    }
    CapturedPacket packet = mapped.next(timeoutMillis);
    OverlapFilter seen = overlap;
    if (seen != null) {
      while (packet != null && seen.repeats(packet)) {
        packet = mapped.next(0);
      }
      if (seen.done(System.nanoTime())) {
        overlap = null;
        logger.info("capture ring replaced: {}", seen);
      }
    }
    if (draining == null) {
      resizeIfDue(mapped, packet != null);
    }
    return packet;
  }

  /** Replaces the ring when {@link RingSizing} says so (at most one check of the window a call). */
  private void resizeIfDue(RxRing mapped, boolean gotPacket) {
    long now = System.nanoTime();
    if (now - noResizeUntilNanos < 0) {
      return;
    }
    boolean first = gotPacket && !packetSeen;
    if (first) {
      packetSeen = true;
    }
    int blocks = mapped.blockCount();
    // Taken once: drops seen while the ring was already its largest must not grow a ring it shrinks to later.
    boolean dropped = dropsSeen;
    if (dropped) {
      dropsSeen = false;
    }
    int growAt = RingSizing.growAt(blocks);
    int backlog =
        blocks > growAt && blocks < sizing.maxBlocks() && mapped.behindBy(growAt)
            ? growAt
            : mapped.backlog();
    int next = first ? sizing.atFirstPacket(blocks) : 0;
    if (next == 0) {
      next = sizing.grown(blocks, backlog, dropped);
    }
    if (next == 0 && now - windowStartNanos >= sizing.shrinkWindowNanos()) {
      windowStartNanos = now;
      next = sizing.shrunk(blocks, mapped.takePeakBacklog());
    }
    if (next == 0) {
      return;
    }
    String why =
        first && next > blocks
            ? "the first packet came, to a reader that had read none"
            : next > blocks
            ? (dropped ? "the kernel dropped packets" : "the reader fell " + backlog
                + " of " + blocks + " blocks behind")
            : "the reader stayed under " + Math.max(1, next / 8) + " blocks behind for "
                + sizing.shrinkWindowNanos() / 1_000_000_000L + " s";
    try {
      replaceRing(mapped, next, now);
      long droppedSoFar;
      synchronized (lock) {
        droppedSoFar = totalDropped;
      }
      logger.info(
          "capture ring {} to {} MiB ({}; replaced in {} ms; {} packets dropped by the kernel so"
              + " far)",
          next > blocks ? "grown" : "shrunk",
          RxRing.mib(next),
          why,
          (System.nanoTime() - now) / 1_000_000,
          droppedSoFar);
    } catch (IOException | RuntimeException e) {
      // Keeps the ring it has; tried again a window later.
      noResizeUntilNanos = now + sizing.shrinkWindowNanos();
      logger.warn(
          "could not replace the {} MiB capture ring with one of {} MiB ({}): {}",
          RxRing.mib(blocks),
          RxRing.mib(next),
          why,
          e.toString());
    }
  }

  /** Steps 1 and 2 of the class comment: a new socket with a ring of {@code blocks}. */
  private void replaceRing(RxRing mapped, int blocks, long now) throws IOException {
    synchronized (lock) {
      int oldFd = openFd();
      int newFd = newSocket();
      RxRing newRing = null;
      try {
        newRing = RxRing.map(newFd, blocks);
        attachFilter(newFd, ports);
        // What the old ring drops from here on, the new one has: its last counters are read now.
        accumulate(oldFd, true);
        attachFilter(oldFd, Set.of());
      } catch (IOException | RuntimeException e) {
        if (newRing != null) {
          newRing.close();
        }
        closeFd(newFd);
        attachFilter(oldFd, ports); // in case the drop-all went on before the failure
        throw e;
      }
      if (blocks > mapped.blockCount()) {
        grown++;
      } else {
        shrunk++;
      }
      dropsSeen = false;
      drainingFd = oldFd;
      draining = mapped;
      drainUntilNanos = now + DRAIN_MILLIS * 1_000_000L;
      overlap = new OverlapFilter(now);
      fd = newFd;
      ring = newRing;
      windowStartNanos = now;
      mapped.takePeakBacklog();
    }
  }

  /** Step 4 of the class comment: the replaced ring is empty; its socket goes. */
  private void closeDrained() {
    synchronized (lock) {
      RxRing old = draining;
      int oldFd = drainingFd;
      blocksReleasedBefore += old.blocksReleased();
      truncatedBefore += old.truncated();
      draining = null;
      drainingFd = -1;
      old.close();
      closeFd(oldFd);
    }
  }

  /** Closes a descriptor of ours (a failure to close one is not worth a caller's attention). */
  private static void closeFd(int descriptor) {
    try (Arena call = Arena.ofConfined()) {
      Libc.close(Libc.newCallState(call), descriptor);
    }
  }

  @Override
  public void setPorts(Set<Integer> ports) throws IOException {
    synchronized (lock) {
      attachFilter(openFd(), ports);
      this.ports = Set.copyOf(ports);
    }
  }

  private static void attachFilter(int socket, Set<Integer> ports) throws IOException {
    var program = TcpPortFilter.compile(ports);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      MemorySegment fprog = TcpPortFilter.toSockFprog(program, call);
      if (Libc.setsockopt(state, socket, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER, fprog, 16) != 0) {
        throw Libc.failure("setsockopt(SO_ATTACH_FILTER)", state);
      }
    }
  }

  /**
   * Reads {@code PACKET_STATISTICS}. The kernel resets its counters on every read, so they are
   * summed here; its {@code tp_packets} already includes {@code tp_drops}. With a ring the kernel
   * fills the longer {@code tpacket_stats_v3}, whose {@code tp_freeze_q_cnt} counts the times every
   * block was the reader's.
   *
   * <pre>
   *  struct tpacket_stats    { u32 tp_packets; u32 tp_drops; }
   *  struct tpacket_stats_v3 { u32 tp_packets; u32 tp_drops; u32 tp_freeze_q_cnt; }
   * </pre>
   */
  @Override
  public Stats stats() throws IOException {
    synchronized (lock) {
      int socket = openFd();
      RxRing mapped = ring;
      long droppedBefore = totalDropped;
      accumulate(socket, mapped != null);
      RxRing old = draining; // its counters were read when the new ring took over
      if (mapped != null && totalDropped > droppedBefore) {
        dropsSeen = true;
      }
      long cut =
          truncated
              + truncatedBefore
              + (mapped != null ? mapped.truncated() : 0)
              + (old != null ? old.truncated() : 0);
      return new Stats(totalReceived, totalDropped, cut, totalFreezes);
    }
  }

  /** Adds {@code socket}'s counters since their last read to the totals. */
  private void accumulate(int socket, boolean withRing) throws IOException {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment value = readCounters(socket, withRing, call, Libc.newCallState(call));
      totalReceived += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 0));
      totalDropped += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 4));
      if (withRing) {
        totalFreezes += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 8));
      }
    }
  }

  /** {@code PACKET_STATISTICS} since the last read (which the kernel resets). */
  private static MemorySegment readCounters(
      int socket, boolean withRing, Arena call, MemorySegment state) throws IOException {
    MemorySegment value = call.allocate(12, 4);
    MemorySegment length = call.allocate(ValueLayout.JAVA_INT);
    length.set(ValueLayout.JAVA_INT, 0, withRing ? 12 : 8);
    if (Libc.getsockopt(state, socket, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, value, length)
        != 0) {
      throw Libc.failure("getsockopt(PACKET_STATISTICS)", state);
    }
    return value;
  }

  @Override
  public void close() {
    synchronized (lock) {
      int socket = fd;
      if (socket < 0) {
        return;
      }
      fd = -1;
      RxRing mapped = ring;
      if (mapped != null) {
        mapped.close(); // unmapped before the socket goes, which frees the ring's pages
      }
      RxRing old = draining;
      if (old != null) {
        old.close();
        draining = null;
      }
      closeFd(socket);
      if (drainingFd >= 0) {
        closeFd(drainingFd);
        drainingFd = -1;
      }
      try {
        arena.close();
      } catch (IllegalStateException stillReading) {
        // A reader is still inside recvfrom (the caller broke the contract): leave the buffer to
        // it.
      }
    }
  }

  private int openFd() throws IOException {
    int socket = fd;
    if (socket < 0) {
      throw new IOException("capture socket closed");
    }
    return socket;
  }

  /**
   * Discards whatever is queued on {@code socket} now (only packets captured before the drop-all
   * filter was attached). Bounded: the queue can't refill faster than the filter allows.
   */
  private static void drain(int socket, Arena call, MemorySegment state) throws IOException {
    MemorySegment scratch = call.allocate(64);
    for (int i = 0; i < 100_000; i++) {
      long length =
          Libc.recvfrom(
              state,
              socket,
              scratch,
              scratch.byteSize(),
              Libc.MSG_TRUNC | Libc.MSG_DONTWAIT,
              MemorySegment.NULL,
              MemorySegment.NULL);
      if (length < 0) {
        int errno = Libc.errno(state);
        if (errno == Libc.EAGAIN) {
          return;
        }
        if (errno != Libc.EINTR) {
          throw new ErrnoException("recvfrom", errno, Libc.strerror(errno));
        }
      }
    }
  }

  /**
   * {@code SO_RCVBUFFORCE} (root may exceed {@code net.core.rmem_max}), falling back to {@code
   * SO_RCVBUF}, which the kernel caps silently.
   */
  private void setReceiveBuffer(int bytes) throws IOException {
    int socket = openFd();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      MemorySegment value = call.allocate(ValueLayout.JAVA_INT);
      value.set(ValueLayout.JAVA_INT, 0, bytes);
      if (Libc.setsockopt(state, socket, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, value, 4) != 0
          && Libc.setsockopt(state, socket, Libc.SOL_SOCKET, Libc.SO_RCVBUF, value, 4) != 0) {
        throw Libc.failure("setsockopt(SO_RCVBUF)", state);
      }
    }
  }

  /**
   * {@code SO_RCVTIMEO} takes a {@code struct timeval}:
   *
   * <pre>
   *  0                8                16
   *  +----------------+----------------+
   *  | tv_sec (i64)   | tv_usec (i64)  |
   *  +----------------+----------------+
   * </pre>
   */
  private static void setReadTimeout(int socket, long timeoutMillis) throws IOException {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      MemorySegment timeval = call.allocate(16, 8);
      timeval.set(ValueLayout.JAVA_LONG, 0, timeoutMillis / 1000);
      timeval.set(ValueLayout.JAVA_LONG, 8, (timeoutMillis % 1000) * 1000);
      if (Libc.setsockopt(state, socket, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeval, 16) != 0) {
        throw Libc.failure("setsockopt(SO_RCVTIMEO)", state);
      }
    }
  }

  static short htons(short value) {
    return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? Short.reverseBytes(value) : value;
  }
}
