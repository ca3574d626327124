package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The {@code TPACKET_V3} receive ring of an {@code AF_PACKET} socket ({@code PACKET_RX_RING},
 * {@code Documentation/networking/packet_mmap.rst}): blocks of {@value #BLOCK_SIZE} bytes mapped
 * into this process, which the kernel fills with packets and hands over one whole block at a time.
 * No system call per packet, and a burst waits in the ring (8 to 64 MiB, at about 256 bytes a
 * small segment) instead of overflowing a socket buffer charged 2–4 KiB per packet. A ring's size
 * is fixed once mapped; {@link AfPacketSource} replaces it with a larger or smaller one.
 *
 * <pre>
 *  ring = blockCount x BLOCK_SIZE bytes, mmap'ed (MAP_SHARED) from the socket
 *  +-------------------+-------------------+-----+-------------------------+
 *  | block 0           | block 1           | ... | block blockCount-1      |
 *  +-------------------+-------------------+-----+-------------------------+
 *
 *  struct tpacket_block_desc, at the start of a block (hdr.bh1 = struct tpacket_hdr_v1), all u32
 *  but seq_num (u64) and the timestamps (2 x u32 each):
 *  0         4                8              12         16                    20        24
 *  +---------+----------------+--------------+----------+---------------------+---------+---
 *  | version | offset_to_priv | block_status | num_pkts | offset_to_first_pkt | blk_len | seq_num,
 *  +---------+----------------+--------------+----------+---------------------+---------+ ts_first,
 *   block_status: TP_STATUS_KERNEL (0) = the kernel's, TP_STATUS_USER (1) = ours   ts_last (48)
 *
 *  struct tpacket3_hdr, one per packet: at offset_to_first_pkt, then each at + tp_next_offset
 *  0                4        8         12           16       20          24       26       28
 *  +----------------+--------+---------+------------+--------+-----------+--------+--------+----
 *  | tp_next_offset | tp_sec | tp_nsec | tp_snaplen | tp_len | tp_status | tp_mac | tp_net | hv1,
 *  | u32            | u32    | u32     | u32        | u32    | u32       | u16    | u16    | pad
 *  +----------------+--------+---------+------------+--------+-----------+--------+--------+----
 *  48: struct sockaddr_ll (20 bytes, see AfPacketSource)     (48)
 *  tp_net: offset of the IP header (SOCK_DGRAM), from the tpacket3_hdr
 *  tp_snaplen bytes of tp_len were stored; fewer means the packet did not fit the block
 * </pre>
 *
 * <p>The reader owns a block from seeing {@code TP_STATUS_USER} (read with acquire semantics, so
 * the packets the kernel wrote before are visible) until it writes {@code TP_STATUS_KERNEL} back
 * (with release semantics, after the last read of its packets). The kernel fills blocks in order,
 * so the reader walks them in order too; a block is handed over when full or after {@value
 * #RETIRE_TIMEOUT_MILLIS} ms, which bounds how late a lone packet is seen. When every block is the
 * reader's, the kernel drops packets and counts them ({@code tpacket_stats_v3.tp_drops}, {@code
 * tp_freeze_q_cnt}).
 *
 * <p>Single reader: {@link #next} is called by one thread only. The mapping belongs to a shared
 * arena, so {@link #close} while that thread is still reading makes its next access throw instead
 * of touching unmapped memory.
 */
final class RxRing implements AutoCloseable {
  /**
   * Blocks are small and many because the kernel hands a block over after {@value
   * #RETIRE_TIMEOUT_MILLIS} ms however little it holds: under light traffic each block carries 10
   * ms of packets, so a ring covers {@code blocks x 10 ms} of a stalled reader (320 ms at 8 MiB,
   * 2.56 s at 64 MiB), and its whole size under a flood. A block holds any packet up to 256 KiB
   * minus the headers: GSO/GRO super-packets are at most 64 KiB unless BIG TCP is on.
   */
  static final int BLOCK_SIZE = 256 * 1024;

  /**
   * The largest ring in MiB: {@value #RING_MIB_PROPERTY} (1 to 1024, e.g. in the agent's JVM
   * options file), default {@value #DEFAULT_RING_MIB}, the ring from the first packet on. The
   * kernel's pages of a ring count in the agent's RSS for as long as it is mapped, so {@link
   * AfPacketSource} starts with {@value #FIRST_RING_MIB_PROPERTY} (default {@value
   * #DEFAULT_FIRST_RING_MIB}) until a packet comes, shrinks the ring after a quiet minute, down to {@value #MIN_RING_MIB_PROPERTY} (default {@value
   * #DEFAULT_MIN_RING_MIB}), and grows it again when the reader falls behind ({@link
   * RingSizing}). An 8 MiB ring that could not grow dropped 6 068 of 270 966 packets under {@code
   * bench/mirror.sh}'s flood on a busy 2-core machine (and one lost segment ends that connection's
   * mirror), where 64 MiB lost none (docs/PERFORMANCE.md, "Agent footprint"). Drops are counted
   * and logged (the agent's "packet capture lost" lines), never silent.
   */
  static final String RING_MIB_PROPERTY = "mirrord.capture.ring.mib";

  static final int DEFAULT_RING_MIB = 64;

  /** The smallest ring in MiB; at least the largest: a fixed ring. */
  static final String MIN_RING_MIB_PROPERTY = "mirrord.capture.ring.min.mib";

  static final int DEFAULT_MIN_RING_MIB = 8;

  /**
   * The ring in MiB until the first packet, at most the largest (a fixed ring: the largest). It
   * may lie below the smallest: the first packet replaces it by the largest, so it only carries
   * that switch (10–50 ms). An 8 MiB first ring that only grew when its cold reader fell behind lost
   * packets of a 32 MB/s stream in 2 of 3 runs (AfPacketSourceTest's cold-reader tests); grown at
   * the first packet, none, and a 2 MiB one lost none with both cores busy (docs/PERFORMANCE.md,
   * "the first capture ring at 4 MiB"). The smallest ring stays 8 MiB: a 4 MiB ring whose warm
   * reader stalled 70 ms under the same stream lost packets before it could grow.
   */
  static final String FIRST_RING_MIB_PROPERTY = "mirrord.capture.ring.first.mib";

  static final int DEFAULT_FIRST_RING_MIB = 4;

  /** Blocks for a ring of {@code mib} MiB (null or out of range: {@code defaultMib}). */
  static int blockCount(String mib, int defaultMib) {
    int m = defaultMib;
    try {
      if (mib != null) {
        int asked = Integer.parseInt(mib.strip());
        if (asked >= 1 && asked <= 1024) {
          m = asked;
        }
      }
    } catch (NumberFormatException e) {
      // the default
    }
    return m * (1024 * 1024 / BLOCK_SIZE);
  }

  /**
   * {@code tp_frame_size}: TPACKET_V3 stores packets back to back whatever their size (up to a
   * block), the kernel only checks that blocks divide into whole frames: one frame per block.
   */
  static final int FRAME_SIZE = BLOCK_SIZE;

  static final int RETIRE_TIMEOUT_MILLIS = 10;

  private static final int TP_STATUS_KERNEL = 0;
  private static final int TP_STATUS_USER = 1;

  private static final long BLOCK_STATUS = 8;
  private static final long BLOCK_NUM_PKTS = 12;
  private static final long BLOCK_FIRST_PACKET = 16;
  private static final long PACKET_NEXT = 0;
  private static final long PACKET_SNAPLEN = 12;
  private static final long PACKET_LEN = 16;
  private static final long PACKET_NET = 26;
  private static final long PACKET_SOCKADDR_LL = 48;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final ValueLayout.OfShort U16_BE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

  /** The size of a ring of {@code blocks} blocks, in MiB. */
  static long mib(int blocks) {
    return (long) blocks * BLOCK_SIZE >> 20;
  }

  private final int fd;
  private final int blockCount;
  private final Arena arena;
  private final MemorySegment ring;
  private final MemorySegment pollFd;
  private final MemorySegment pollState;
  private final MemorySegment pollTimeout;

  // Reader state.
  private int block;
  private boolean holding;
  private int packetsLeft;
  private long packetAt;
  private long blockNanos;
  private volatile long truncated;
  private volatile long blocksReleased;

  /** Blocks the kernel had handed over beyond the one just taken, when it was taken. */
  private int backlog;

  /** The largest {@link #backlog} since {@link #takePeakBacklog}. */
  private int peakBacklog;

  private RxRing(int fd, int blockCount, Arena arena, MemorySegment ring) {
    this.fd = fd;
    this.blockCount = blockCount;
    this.arena = arena;
    this.ring = ring;
    this.pollFd = arena.allocate(8, 4);
    this.pollState = Libc.newCallState(arena);
    this.pollTimeout = arena.allocate(16, 8);
  }

  /**
   * Switches {@code fd} (an {@code AF_PACKET} socket without a ring) to {@code TPACKET_V3} and maps
   * its receive ring. On failure the socket is left as it was, or with a version set but no ring,
   * which a {@code recvfrom} reader doesn't mind.
   *
   * <pre>
   *  struct tpacket_req3, 7 x u32 (28 bytes)
   *  0               4             8               12            16
   *  +---------------+-------------+---------------+-------------+-------------------+
   *  | tp_block_size | tp_block_nr | tp_frame_size | tp_frame_nr | tp_retire_blk_tov |
   *  +---------------+-------------+---------------+-------------+-------------------+
   *  20               24                    28
   *  +----------------+---------------------+
   *  | tp_sizeof_priv | tp_feature_req_word |
   *  +----------------+---------------------+
   * </pre>
   */
  static RxRing map(int fd, int blockCount) throws IOException {
    long size = (long) BLOCK_SIZE * blockCount;
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      MemorySegment version = call.allocate(ValueLayout.JAVA_INT);
      version.set(ValueLayout.JAVA_INT, 0, Libc.TPACKET_V3);
      if (Libc.setsockopt(state, fd, Libc.SOL_PACKET, Libc.PACKET_VERSION, version, 4) != 0) {
        throw Libc.failure("setsockopt(PACKET_VERSION, TPACKET_V3)", state);
      }
      MemorySegment request = call.allocate(28, 4);
      request.set(ValueLayout.JAVA_INT, 0, BLOCK_SIZE);
      request.set(ValueLayout.JAVA_INT, 4, blockCount);
      request.set(ValueLayout.JAVA_INT, 8, FRAME_SIZE);
      request.set(ValueLayout.JAVA_INT, 12, BLOCK_SIZE / FRAME_SIZE * blockCount);
      request.set(ValueLayout.JAVA_INT, 16, RETIRE_TIMEOUT_MILLIS);
      request.set(ValueLayout.JAVA_INT, 20, 0);
      request.set(ValueLayout.JAVA_INT, 24, 0);
      if (Libc.setsockopt(state, fd, Libc.SOL_PACKET, Libc.PACKET_RX_RING, request, 28) != 0) {
        throw Libc.failure("setsockopt(PACKET_RX_RING)", state);
      }
      MemorySegment address =
          Libc.mmap(state, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
      if (address.address() == Libc.MAP_FAILED) {
        ErrnoException failure = Libc.failure("mmap(PACKET_RX_RING)", state);
        // An unmapped ring would swallow every packet: a zero-block request frees it again.
        request.fill((byte) 0);
        Libc.setsockopt(state, fd, Libc.SOL_PACKET, Libc.PACKET_RX_RING, request, 28);
        throw failure;
      }
      Arena arena = Arena.ofShared();
      // munmap runs when the arena closes, after every reader access has ended.
      MemorySegment ring =
          address.reinterpret(
              size,
              arena,
              mapped -> {
                try (Arena unmap = Arena.ofConfined()) {
                  Libc.munmap(Libc.newCallState(unmap), mapped, size);
                }
              });
      return new RxRing(fd, blockCount, arena, ring);
    }
  }

  /** The ring's blocks of {@link #BLOCK_SIZE} bytes. */
  int blockCount() {
    return blockCount;
  }

  /** Blocks handed over and waiting behind the one the reader took last, when it took it. */
  int backlog() {
    return backlog;
  }

  /**
   * Whether the kernel has handed over at least {@code blocks} blocks beyond the one the reader is
   * in (1 to {@code blockCount() - 1}): one read of one block's status, cheap enough for every
   * packet, since the kernel fills blocks in order.
   */
  boolean behindBy(int blocks) {
    long descriptor = (long) ((block + blocks) % blockCount) * BLOCK_SIZE;
    return ((int) INT.getAcquire(ring, descriptor + BLOCK_STATUS) & TP_STATUS_USER) != 0;
  }

  /** The largest {@link #backlog()} since the last call. */
  int takePeakBacklog() {
    int peak = peakBacklog;
    peakBacklog = 0;
    return peak;
  }

  /** Blocks given back to the kernel so far: {@link #blockCount()} of them are one lap. */
  long blocksReleased() {
    return blocksReleased;
  }

  /** Packets that did not fit a block ({@code tp_snaplen < tp_len}), skipped. */
  long truncated() {
    return truncated;
  }

  /**
   * The next packet, or {@code null} if none came within about {@code timeoutMillis} (0: only what
   * the kernel already handed over). Skips the loopback's outgoing copies, as {@link
   * AfPacketSource} does.
   */
  CapturedPacket next(long timeoutMillis) throws IOException {
    boolean waited = false;
    while (true) {
      if (holding) {
        if (packetsLeft > 0) {
          CapturedPacket packet = take();
          if (packet != null) {
            return packet;
          }
          continue;
        }
        release();
        continue;
      }
      long descriptor = (long) block * BLOCK_SIZE;
      int status = (int) INT.getAcquire(ring, descriptor + BLOCK_STATUS);
      if ((status & TP_STATUS_USER) != 0) {
        holding = true;
        packetsLeft = ring.get(ValueLayout.JAVA_INT, descriptor + BLOCK_NUM_PKTS);
        packetAt =
            descriptor
                + Integer.toUnsignedLong(
                    ring.get(ValueLayout.JAVA_INT, descriptor + BLOCK_FIRST_PACKET));
        blockNanos = System.nanoTime();
        backlog = waitingAfter(block);
        peakBacklog = Math.max(peakBacklog, backlog);
        continue;
      }
      if (waited || timeoutMillis <= 0) {
        return null;
      }
      poll(timeoutMillis);
      waited = true;
    }
  }

  /**
   * Copies the packet at {@link #packetAt} out and moves on, giving the block back right after its
   * last packet; {@code null} if the packet is skipped.
   */
  private CapturedPacket take() {
    long at = packetAt;
    CapturedPacket packet = read(at);
    if (--packetsLeft == 0) {
      release();
    } else {
      packetAt = at + Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT, at + PACKET_NEXT));
    }
    return packet;
  }

  private CapturedPacket read(long at) {
    long sockaddr = at + PACKET_SOCKADDR_LL;
    int pkttype = Byte.toUnsignedInt(ring.get(ValueLayout.JAVA_BYTE, sockaddr + 10));
    int hatype = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, sockaddr + 8));
    CapturedPacket.PacketType type = CapturedPacket.PacketType.of(pkttype);
    if (type == CapturedPacket.PacketType.OUTGOING && hatype == Libc.ARPHRD_LOOPBACK) {
      return null;
    }
    int snaplen = ring.get(ValueLayout.JAVA_INT, at + PACKET_SNAPLEN);
    int length = ring.get(ValueLayout.JAVA_INT, at + PACKET_LEN);
    if (snaplen != length || length > AfPacketSource.BUFFER_SIZE) {
      truncated++;
      return null;
    }
    int net = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, at + PACKET_NET));
    byte[] data = new byte[snaplen];
    MemorySegment.copy(ring, ValueLayout.JAVA_BYTE, at + net, data, 0, snaplen);
    return new CapturedPacket(
        data,
        Short.toUnsignedInt(ring.get(U16_BE, sockaddr + 2)),
        type,
        ring.get(ValueLayout.JAVA_INT, sockaddr + 4),
        blockNanos);
  }

  /** Blocks after {@code taken} that are the reader's already, counted until the first that isn't. */
  private int waitingAfter(int taken) {
    int waiting = 0;
    for (int i = 1; i < blockCount; i++) {
      long descriptor = (long) ((taken + i) % blockCount) * BLOCK_SIZE;
      if (((int) INT.getAcquire(ring, descriptor + BLOCK_STATUS) & TP_STATUS_USER) == 0) {
        break;
      }
      waiting++;
    }
    return waiting;
  }

  /** Gives the current block back to the kernel and moves to the next one. */
  private void release() {
    INT.setRelease(ring, (long) block * BLOCK_SIZE + BLOCK_STATUS, TP_STATUS_KERNEL);
    holding = false;
    block = (block + 1) % blockCount;
    blocksReleased++;
  }

  /**
   * Waits until the kernel hands over a block (or an error is pending) or {@code timeoutMillis}
   * pass.
   *
   * <pre>
   *  struct pollfd:  0 fd (i32)  4 events (i16)  6 revents (i16)  8
   * </pre>
   */
  private void poll(long timeoutMillis) throws IOException {
    pollFd.set(ValueLayout.JAVA_INT, 0, fd);
    pollFd.set(ValueLayout.JAVA_SHORT, 4, (short) (Libc.POLLIN | Libc.POLLERR));
    pollFd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
    int ready = Libc.poll(pollState, pollFd, 1, pollTimeout, (int) Math.min(timeoutMillis, Integer.MAX_VALUE));
    if (ready < 0) {
      int errno = Libc.errno(pollState);
      if (errno != Libc.EINTR) {
        throw new ErrnoException("poll", errno, Libc.strerror(errno));
      }
    }
  }

  /** Unmaps the ring, unless a reader is still inside a call (then it stays mapped). */
  @Override
  public void close() {
    try {
      arena.close();
    } catch (IllegalStateException stillReading) {
      // A reader is inside poll() (the caller broke the contract): leave the mapping to it.
    }
  }
}
