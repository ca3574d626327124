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
 * system call per packet, 64 MiB for bursts). Where the kernel refuses the ring, {@link #open()}
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
 */
public final class AfPacketSource implements PacketSource {
  private static final Logger logger = LoggerFactory.getLogger(AfPacketSource.class);

  /** The fallback is logged once per agent, not once per socket. */
  private static final AtomicBoolean RING_FAILURE_LOGGED = new AtomicBoolean();

  /** Read buffer: a GSO/GRO super-packet is at most 64 KiB, BIG TCP up to 512 KiB. */
  static final int BUFFER_SIZE = 256 * 1024;

  /** Asked with {@code SO_RCVBUFFORCE}: bursts of a fast client must not overflow the socket. */
  public static final int DEFAULT_RECEIVE_BUFFER = 8 * 1024 * 1024;

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

  private AfPacketSource(int fd) {
    this.fd = fd;
  }

  /**
   * Opens the socket with a receive ring, or, where the kernel refuses it, with a {@link
   * #DEFAULT_RECEIVE_BUFFER} for {@code recvfrom}; it captures nothing until {@link #setPorts}.
   */
  public static AfPacketSource open() throws IOException {
    AfPacketSource source = openSocket();
    try {
      source.ring = RxRing.map(source.fd);
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
    return mapped == null ? 0 : mapped.blocksReleased();
  }

  private static AfPacketSource openSocket() throws IOException {
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
    }
    AfPacketSource source = new AfPacketSource(fd);
    try {
      // The socket captures everything from socket() until a filter is attached: attach the
      // drop-all program first, then throw away what slipped in meanwhile (before any ring
      // exists, so it is all in the socket's queue).
      source.setPorts(Set.of());
      source.drain();
      return source;
    } catch (IOException | RuntimeException e) {
      source.close();
      throw e;
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
      return mapped.next(timeoutMillis);
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

  @Override
  public void setPorts(Set<Integer> ports) throws IOException {
    var program = TcpPortFilter.compile(ports);
    synchronized (lock) {
      int socket = openFd();
      try (Arena call = Arena.ofConfined()) {
        MemorySegment state = Libc.newCallState(call);
        MemorySegment fprog = TcpPortFilter.toSockFprog(program, call);
        if (Libc.setsockopt(state, socket, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER, fprog, 16)
            != 0) {
          throw Libc.failure("setsockopt(SO_ATTACH_FILTER)", state);
        }
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
      int size = mapped != null ? 12 : 8;
      try (Arena call = Arena.ofConfined()) {
        MemorySegment state = Libc.newCallState(call);
        MemorySegment value = call.allocate(12, 4);
        MemorySegment length = call.allocate(ValueLayout.JAVA_INT);
        length.set(ValueLayout.JAVA_INT, 0, size);
        if (Libc.getsockopt(state, socket, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, value, length)
            != 0) {
          throw Libc.failure("getsockopt(PACKET_STATISTICS)", state);
        }
        totalReceived += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 0));
        totalDropped += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 4));
        if (mapped != null) {
          totalFreezes += Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 8));
        }
        long cut = truncated + (mapped != null ? mapped.truncated() : 0);
        return new Stats(totalReceived, totalDropped, cut, totalFreezes);
      }
    }
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
      try (Arena call = Arena.ofConfined()) {
        Libc.close(Libc.newCallState(call), socket);
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
   * Discards whatever is queued now. Bounded: the queue can't refill faster than the filter allows.
   */
  private void drain() throws IOException {
    for (int i = 0; i < 100_000 && next(0) != null; i++) {
      // Only packets captured before the drop-all filter was attached are in the queue.
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
