package dev.mirrord.jvm.podagent.sniffer;

import static dev.mirrord.jvm.podagent.sys.Syscalls.NR;
import static dev.mirrord.jvm.podagent.sys.Syscalls.arg;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.mirrord.jvm.podagent.sys.Syscalls;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * The few system calls the capture socket needs, typed, through {@link Syscalls}' one downcall
 * (Linux x86-64 and aarch64: the constants below are the same on both, the call numbers are
 * {@link Syscalls#NR}). Every call takes a {@link #newCallState call-state} segment first, where
 * the linker stores {@code errno} right after the call, before the JVM can overwrite it.
 */
final class Libc {
  static final int AF_PACKET = 17;
  static final int SOCK_DGRAM = 2;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int ETH_P_ALL = 0x0003;
  static final int SOL_SOCKET = 1;
  static final int SO_RCVBUF = 8;
  static final int SO_RCVTIMEO = 20;
  static final int SO_ATTACH_FILTER = 26;
  static final int SO_RCVBUFFORCE = 33;
  static final int SOL_PACKET = 263;
  static final int PACKET_RX_RING = 5;
  static final int PACKET_STATISTICS = 6;
  static final int PACKET_VERSION = 10;
  static final int TPACKET_V3 = 2;
  static final int PROT_READ = 1;
  static final int PROT_WRITE = 2;
  static final int MAP_SHARED = 1;
  static final long MAP_FAILED = -1L;
  static final short POLLIN = 0x1;
  static final short POLLERR = 0x8;
  static final int MSG_DONTWAIT = 0x40;
  static final int MSG_TRUNC = 0x20;
  static final int EINTR = 4;
  static final int EAGAIN = 11;
  static final int ARPHRD_LOOPBACK = 772;

  /** An unused argument. */
  private static final MemorySegment NONE = MemorySegment.NULL;

  private Libc() {}

  /** A segment to pass as the first argument of every call; one per thread at a time. */
  static MemorySegment newCallState(SegmentAllocator allocator) {
    return Syscalls.newCallState(allocator);
  }

  static int errno(MemorySegment state) {
    return Syscalls.errno(state);
  }

  static ErrnoException failure(String call, MemorySegment state) {
    int errno = errno(state);
    return new ErrnoException(call, errno, strerror(errno));
  }

  static String strerror(int errno) {
    return Syscalls.strerror(errno);
  }

  static int socket(MemorySegment state, int domain, int type, int protocol) {
    return (int) Syscalls.call(state, NR.socket(), arg(domain), arg(type), arg(protocol), NONE, NONE, NONE);
  }

  static int setsockopt(
      MemorySegment state, int fd, int level, int name, MemorySegment value, int length) {
    return (int)
        Syscalls.call(state, NR.setsockopt(), arg(fd), arg(level), arg(name), value, arg(length), NONE);
  }

  static int getsockopt(
      MemorySegment state, int fd, int level, int name, MemorySegment value, MemorySegment length) {
    return (int) Syscalls.call(state, NR.getsockopt(), arg(fd), arg(level), arg(name), value, length, NONE);
  }

  static long recvfrom(
      MemorySegment state,
      int fd,
      MemorySegment buffer,
      long length,
      int flags,
      MemorySegment address,
      MemorySegment addressLength) {
    return Syscalls.call(state, NR.recvfrom(), arg(fd), buffer, arg(length), arg(flags), address, addressLength);
  }

  /** {@code mmap(NULL, length, prot, flags, fd, offset)}; a zero-length segment at the mapping. */
  static MemorySegment mmap(
      MemorySegment state, long length, int prot, int flags, int fd, long offset) {
    return MemorySegment.ofAddress(
        Syscalls.call(state, NR.mmap(), NONE, arg(length), arg(prot), arg(flags), arg(fd), arg(offset)));
  }

  static int munmap(MemorySegment state, MemorySegment address, long length) {
    return (int) Syscalls.call(state, NR.munmap(), address, arg(length), NONE, NONE, NONE, NONE);
  }

  /**
   * {@code poll(fds, count, timeoutMillis)}, as {@code ppoll} (aarch64 has no {@code poll}) with
   * {@code timespec} (16 bytes, which the kernel may overwrite) as its timeout, or none when
   * {@code timeoutMillis} is negative.
   */
  static int poll(
      MemorySegment state, MemorySegment fds, long count, MemorySegment timespec, int timeoutMillis) {
    MemorySegment timeout = NONE;
    if (timeoutMillis >= 0) {
      timespec.set(JAVA_LONG, 0, timeoutMillis / 1000);
      timespec.set(JAVA_LONG, 8, (timeoutMillis % 1000) * 1_000_000L);
      timeout = timespec;
    }
    return (int) Syscalls.call(state, NR.ppoll(), fds, arg(count), timeout, NONE, NONE, NONE);
  }

  static int close(MemorySegment state, int fd) {
    return (int) Syscalls.call(state, NR.close(), arg(fd), NONE, NONE, NONE, NONE, NONE);
  }
}
