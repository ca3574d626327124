package dev.mirrord.jvm.podagent.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The agent's Linux system calls, all through one FFM downcall handle: glibc's {@code
 * syscall(long number, ...)} with six pointer-sized arguments. Each distinct C signature linked
 * costs a cold JVM a spun stub and its lambda forms, and the capture's eight calls linked one by one
 * were ~60 ms more of the agent's CPU than one handle, on the start that the CLI and the app's JVM
 * share the machine with (docs/PERFORMANCE.md, "one downcall for every system call").
 *
 * <p>Every argument is a {@link MemorySegment}: a buffer as itself, so that FFM keeps its arena
 * alive for the length of the call (closing a shared arena while a reader is inside {@code ppoll}
 * or {@code recvfrom} on its memory fails instead of freeing memory the kernel writes to, which the
 * capture's {@code close} relies on), an integer as {@link #arg(long)}, a segment at that value's
 * address. The kernel takes each register as the call's own type (an {@code int} from its low 32
 * bits).
 *
 * <p>The numbers are those of x86-64 and of aarch64 (the kernel's generic table); on another
 * architecture {@link #supported()} is false and every call fails with {@code ENOSYS}.
 */
public final class Syscalls {
  /** The calls the agent makes, by their kernel numbers on one architecture. */
  public record Numbers(
      long socket,
      long setsockopt,
      long getsockopt,
      long recvfrom,
      long mmap,
      long munmap,
      long ppoll,
      long close,
      long setfsgid) {}

  /** {@code arch/x86/entry/syscalls/syscall_64.tbl}. */
  static final Numbers X86_64 = new Numbers(41, 54, 55, 45, 9, 11, 271, 3, 123);

  /** {@code include/uapi/asm-generic/unistd.h}, which aarch64 uses. */
  static final Numbers AARCH64 = new Numbers(198, 208, 209, 207, 222, 215, 73, 57, 152);

  /** Another architecture: every number -1, so every call fails with {@code ENOSYS}. */
  static final Numbers NONE = new Numbers(-1, -1, -1, -1, -1, -1, -1, -1, -1);

  /** This JVM's numbers ({@link #NONE} on an architecture without a table). */
  public static final Numbers NR = forArch(System.getProperty("os.arch", ""));

  public static final int ENOSYS = 38;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle SYSCALL =
      LINKER.downcallHandle(
          LINKER.defaultLookup().findOrThrow("syscall"),
          FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS),
          Linker.Option.firstVariadicArg(1),
          Linker.Option.captureCallState("errno"));
  private static final ThreadLocal<MemorySegment> SCRATCH_STATE =
      ThreadLocal.withInitial(() -> newCallState(Arena.ofAuto()));

  private Syscalls() {}

  static Numbers forArch(String osArch) {
    return switch (osArch) {
      case "amd64", "x86_64" -> X86_64;
      case "aarch64", "arm64" -> AARCH64;
      default -> NONE;
    };
  }

  /** Whether this architecture has a table: without one every call fails with {@code ENOSYS}. */
  public static boolean supported() {
    return NR != NONE;
  }

  /** A segment to pass as the first argument of every call; one per thread at a time. */
  public static MemorySegment newCallState(SegmentAllocator allocator) {
    return allocator.allocate(CALL_STATE);
  }

  /** The {@code errno} the last call with {@code state} left. */
  public static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /** An integer argument: a zero-length segment at that value, passed as the register's value. */
  public static MemorySegment arg(long value) {
    return value == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(value);
  }

  /**
   * {@code syscall(number, a1, …, a6)}: the kernel's result, or -1 with {@code errno} in {@code
   * state}. A number below 0 (a call this architecture has no number for) is -1 with {@code ENOSYS}.
   * Unused arguments are {@link MemorySegment#NULL}.
   */
  public static long call(
      MemorySegment state,
      long number,
      MemorySegment a1,
      MemorySegment a2,
      MemorySegment a3,
      MemorySegment a4,
      MemorySegment a5,
      MemorySegment a6) {
    if (number < 0) {
      ERRNO.set(state, 0L, ENOSYS);
      return -1;
    }
    try {
      return (long) SYSCALL.invokeExact(state, number, a1, a2, a3, a4, a5, a6);
    } catch (Throwable t) {
      throw t instanceof IllegalStateException e ? e : new IllegalStateException("syscall " + number + " downcall", t);
    }
  }

  /**
   * {@code setfsgid(gid)}: the thread's previous filesystem gid (the current one when {@code gid}
   * is not a valid gid, as -1 is not). Never fails but without a table: -1.
   */
  public static int setfsgid(int gid) {
    MemorySegment none = MemorySegment.NULL;
    return (int)
        call(SCRATCH_STATE.get(), NR.setfsgid(), arg(Integer.toUnsignedLong(gid)), none, none, none, none, none);
  }

  /** {@code strerror(errno)}, linked on first use (an error), not with the calls. */
  public static String strerror(int errno) {
    try {
      MemorySegment text = (MemorySegment) Strerror.HANDLE.invokeExact(errno);
      return text.reinterpret(1024).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  private static final class Strerror {
    static final MethodHandle HANDLE =
        LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
  }
}
