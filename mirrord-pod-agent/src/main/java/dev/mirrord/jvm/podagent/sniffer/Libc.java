package dev.mirrord.jvm.podagent.sniffer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls the capture socket needs, as FFM downcalls (Linux x86-64 and aarch64: the
 * constants below are the same on both). Every call takes a {@link #newCallState call-state}
 * segment first, where the linker stores {@code errno} right after the call, before the JVM can
 * overwrite it.
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

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final MethodHandle SOCKET =
      downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
  private static final MethodHandle SETSOCKOPT =
      downcall(
          "setsockopt",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle GETSOCKOPT =
      downcall(
          "getsockopt",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle RECVFROM =
      downcall(
          "recvfrom",
          FunctionDescriptor.of(
              JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle MMAP =
      downcall(
          "mmap",
          FunctionDescriptor.of(
              ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
  private static final MethodHandle MUNMAP =
      downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
  private static final MethodHandle POLL =
      downcall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
  private static final MethodHandle CLOSE =
      downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle STRERROR =
      LINKER.downcallHandle(
          LINKER.defaultLookup().findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private Libc() {}

  private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(
        LINKER.defaultLookup().findOrThrow(name),
        descriptor,
        Linker.Option.captureCallState("errno"));
  }

  /** A segment to pass as the first argument of every call; one per thread at a time. */
  static MemorySegment newCallState(java.lang.foreign.SegmentAllocator allocator) {
    return allocator.allocate(CALL_STATE);
  }

  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  static ErrnoException failure(String call, MemorySegment state) {
    int errno = errno(state);
    return new ErrnoException(call, errno, strerror(errno));
  }

  static String strerror(int errno) {
    try {
      MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
      return text.reinterpret(1024).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  static int socket(MemorySegment state, int domain, int type, int protocol) {
    try {
      return (int) SOCKET.invokeExact(state, domain, type, protocol);
    } catch (Throwable t) {
      throw new IllegalStateException("socket downcall", t);
    }
  }

  static int setsockopt(
      MemorySegment state, int fd, int level, int name, MemorySegment value, int length) {
    try {
      return (int) SETSOCKOPT.invokeExact(state, fd, level, name, value, length);
    } catch (Throwable t) {
      throw new IllegalStateException("setsockopt downcall", t);
    }
  }

  static int getsockopt(
      MemorySegment state, int fd, int level, int name, MemorySegment value, MemorySegment length) {
    try {
      return (int) GETSOCKOPT.invokeExact(state, fd, level, name, value, length);
    } catch (Throwable t) {
      throw new IllegalStateException("getsockopt downcall", t);
    }
  }

  static long recvfrom(
      MemorySegment state,
      int fd,
      MemorySegment buffer,
      long length,
      int flags,
      MemorySegment address,
      MemorySegment addressLength) {
    try {
      return (long) RECVFROM.invokeExact(state, fd, buffer, length, flags, address, addressLength);
    } catch (Throwable t) {
      throw new IllegalStateException("recvfrom downcall", t);
    }
  }

  /** {@code mmap(NULL, length, prot, flags, fd, offset)}; a zero-length segment at the mapping. */
  static MemorySegment mmap(
      MemorySegment state, long length, int prot, int flags, int fd, long offset) {
    try {
      return (MemorySegment)
          MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset);
    } catch (Throwable t) {
      throw new IllegalStateException("mmap downcall", t);
    }
  }

  static int munmap(MemorySegment state, MemorySegment address, long length) {
    try {
      return (int) MUNMAP.invokeExact(state, address, length);
    } catch (Throwable t) {
      throw new IllegalStateException("munmap downcall", t);
    }
  }

  static int poll(MemorySegment state, MemorySegment fds, long count, int timeoutMillis) {
    try {
      return (int) POLL.invokeExact(state, fds, count, timeoutMillis);
    } catch (Throwable t) {
      throw new IllegalStateException("poll downcall", t);
    }
  }

  static int close(MemorySegment state, int fd) {
    try {
      return (int) CLOSE.invokeExact(state, fd);
    } catch (Throwable t) {
      throw new IllegalStateException("close downcall", t);
    }
  }
}
