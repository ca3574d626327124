package dev.mirrord.jvm.podagent.sys;

import static dev.mirrord.jvm.podagent.sys.Syscalls.arg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SyscallsTest {
  private static final MemorySegment NONE = MemorySegment.NULL;
  private static final int AF_INET = 2;
  private static final int SOCK_DGRAM = 2;
  private static final int EBADF = 9;

  @Test
  void theNumbersAreTheKernelHeadersOfBothArchitectures() throws IOException {
    Path x86 = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
    Path generic = Path.of("/usr/include/asm-generic/unistd.h");
    assumeTrue(Files.exists(x86) && Files.exists(generic), "linux-libc-dev (scripts/install-deps.sh)");
    assertThat(Syscalls.X86_64).isEqualTo(fromHeader(x86));
    assertThat(Syscalls.AARCH64).isEqualTo(fromHeader(generic));
  }

  /** The agent's calls as {@code #define __NR_name N} lines give them (mmap via {@code __NR3264_mmap}). */
  private static Syscalls.Numbers fromHeader(Path header) throws IOException {
    Map<String, Long> nr = new HashMap<>();
    Matcher m = Pattern.compile("(?m)^#define __NR(?:3264)?_(\\w+)\\s+(\\d+)\\s*$").matcher(Files.readString(header));
    while (m.find()) {
      nr.putIfAbsent(m.group(1), Long.parseLong(m.group(2)));
    }
    return new Syscalls.Numbers(
        nr.get("socket"),
        nr.get("setsockopt"),
        nr.get("getsockopt"),
        nr.get("recvfrom"),
        nr.get("mmap"),
        nr.get("munmap"),
        nr.get("ppoll"),
        nr.get("close"),
        nr.get("setfsgid"));
  }

  @Test
  void thisMachinesArchitectureHasATable() {
    assertThat(Syscalls.supported()).isTrue();
    assertThat(Syscalls.forArch("amd64")).isSameAs(Syscalls.X86_64);
    assertThat(Syscalls.forArch("aarch64")).isSameAs(Syscalls.AARCH64);
    assertThat(Syscalls.forArch("riscv64")).isSameAs(Syscalls.NONE);
  }

  @Test
  void callsReturnTheKernelsResultAndErrorsTheirErrno() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Syscalls.newCallState(arena);
      long fd = Syscalls.call(state, Syscalls.NR.socket(), arg(AF_INET), arg(SOCK_DGRAM), NONE, NONE, NONE, NONE);
      assertThat(fd).isNotNegative();

      // ppoll of a socket with nothing to read, 10 ms: 0 ready
      MemorySegment pollFd = arena.allocate(8, 4);
      pollFd.set(ValueLayout.JAVA_INT, 0, (int) fd);
      pollFd.set(ValueLayout.JAVA_SHORT, 4, (short) 1);
      MemorySegment timespec = arena.allocate(16, 8);
      timespec.set(ValueLayout.JAVA_LONG, 8, 10_000_000L);
      long t0 = System.nanoTime();
      assertThat(Syscalls.call(state, Syscalls.NR.ppoll(), pollFd, arg(1), timespec, NONE, NONE, NONE)).isZero();
      assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(9_000_000L);

      assertThat(Syscalls.call(state, Syscalls.NR.close(), arg(fd), NONE, NONE, NONE, NONE, NONE)).isZero();
      assertThat(Syscalls.call(state, Syscalls.NR.close(), arg(fd), NONE, NONE, NONE, NONE, NONE)).isEqualTo(-1);
      assertThat(Syscalls.errno(state)).isEqualTo(EBADF);
      assertThat(Syscalls.strerror(EBADF)).isEqualTo("Bad file descriptor");
    }
  }

  @Test
  void anonymousMemoryIsMappedWrittenAndUnmapped() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Syscalls.newCallState(arena);
      // PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, fd -1
      long address = Syscalls.call(state, Syscalls.NR.mmap(), NONE, arg(8192), arg(3), arg(0x22), arg(-1), NONE);
      assertThat(address).isPositive();
      MemorySegment mapped = MemorySegment.ofAddress(address).reinterpret(8192);
      mapped.set(ValueLayout.JAVA_LONG, 8184, 42L);
      assertThat(mapped.get(ValueLayout.JAVA_LONG, 8184)).isEqualTo(42L);
      assertThat(Syscalls.call(state, Syscalls.NR.munmap(), arg(address), arg(8192), NONE, NONE, NONE, NONE)).isZero();
    }
  }

  @Test
  void setfsgidWithAnInvalidGidAnswersTheThreadsFsgid() throws IOException {
    // /proc/thread-self/status "Gid:" is real, effective, saved, filesystem
    String gid =
        Files.readAllLines(Path.of("/proc/thread-self/status")).stream()
            .filter(l -> l.startsWith("Gid:"))
            .findFirst()
            .orElseThrow()
            .split("\\s+")[4];
    assertThat(Syscalls.setfsgid(-1)).isEqualTo(Integer.parseInt(gid));
  }

  @Test
  void aCallWithoutANumberFailsWithEnosys() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Syscalls.newCallState(arena);
      assertThat(Syscalls.call(state, Syscalls.NONE.close(), NONE, NONE, NONE, NONE, NONE, NONE)).isEqualTo(-1);
      assertThat(Syscalls.errno(state)).isEqualTo(Syscalls.ENOSYS);
    }
  }

  /**
   * A buffer passed to a call keeps its arena alive until the call returns: a shared arena cannot
   * be closed (and its memory freed) while the kernel may still write to it.
   */
  @Test
  void aSharedArenaCannotBeClosedWhileACallUsesItsMemory() throws Exception {
    Arena shared = Arena.ofShared();
    MemorySegment pollFd = shared.allocate(8, 4);
    pollFd.set(ValueLayout.JAVA_INT, 0, -1); // ignored by ppoll: it only waits
    MemorySegment timespec = shared.allocate(16, 8);
    timespec.set(ValueLayout.JAVA_LONG, 8, 500_000_000L);
    MemorySegment state = Syscalls.newCallState(shared);
    java.util.concurrent.CountDownLatch calling = new java.util.concurrent.CountDownLatch(1);
    Thread poller =
        Thread.ofPlatform()
            .start(
                () -> {
                  calling.countDown();
                  Syscalls.call(state, Syscalls.NR.ppoll(), pollFd, arg(1), timespec, NONE, NONE, NONE);
                });
    calling.await();
    Thread.sleep(100);
    assertThatThrownBy(shared::close).isInstanceOf(IllegalStateException.class);
    poller.join();
    shared.close(); // once the call has returned
  }
}
