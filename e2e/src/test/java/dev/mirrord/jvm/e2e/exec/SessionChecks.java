package dev.mirrord.jvm.e2e.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * What a mirrord session may leave on the machine, read from {@code /proc} and the pod's iptables, and the assertion
 * that it left nothing: no agent for the pod, no process that still refers to the session (the app, its children,
 * the agent), no session directory, no {@code MIRRORD} iptables rule in the pod's namespace.
 */
final class SessionChecks {
  static final String AGENT_JAR = "mirrord-pod-agent.jar";

  private SessionChecks() {}

  /** Live processes whose command line has {@value #AGENT_JAR} and {@code --target-pid <podPid>}: "pid cmdline". */
  static List<String> agentProcessesFor(long podPid) {
    List<String> found = new ArrayList<>();
    for (long pid : pids()) {
      String cmd = cmdline(pid);
      if (cmd.contains(AGENT_JAR) && cmd.contains("--target-pid " + podPid + " ")) {
        found.add(pid + " " + cmd);
      }
    }
    return found;
  }

  /** Pids of the agent processes for {@code podPid}. */
  static List<Long> agentPidsFor(long podPid) {
    return agentProcessesFor(podPid).stream().map(s -> Long.parseLong(s.substring(0, s.indexOf(' ')))).toList();
  }

  /**
   * Live processes other than this JVM whose command line or environment contains {@code needle} (e.g. the session
   * directory: in the agent's {@code --listen}, in the app's {@code JAVA_TOOL_OPTIONS}, inherited by its children).
   */
  static List<String> processesMentioning(String needle) {
    byte[] bytes = needle.getBytes(StandardCharsets.UTF_8);
    long self = ProcessHandle.current().pid();
    List<String> found = new ArrayList<>();
    for (long pid : pids()) {
      if (pid == self) {
        continue;
      }
      Path proc = Path.of("/proc", Long.toString(pid));
      if (contains(readQuietly(proc.resolve("cmdline")), bytes) || contains(readQuietly(proc.resolve("environ")), bytes)) {
        found.add(pid + " " + cmdline(pid));
      }
    }
    return found;
  }

  /** {@code iptables-save} in the pod's namespace (all tables). */
  static String podIptables(NetnsLab lab) {
    ExecResult r = lab.run(NetnsLab.Node.POD, Duration.ofSeconds(15), "iptables-save");
    assertThat(r.exitCode()).as("iptables-save in the pod netns: %s", r).isZero();
    return r.stdout();
  }

  /**
   * Asserts that the finished {@code run} left nothing: within 3 s no agent for the lab's pod and no process referring
   * to the session dir; the session dir is gone; no iptables rule or chain mentions MIRRORD in the pod's namespace.
   */
  static void assertNothingLeft(NetnsLab lab, MirrordRun run) {
    assertThat(run.isAlive()).as("mirrord itself is still running").isFalse();
    Optional<Path> sessionDir = run.sessionDir();
    Awaitility.await("agent and session processes gone")
        .atMost(Duration.ofSeconds(3))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> {
          assertThat(agentProcessesFor(lab.podPid())).as("agent processes for pid %d", lab.podPid()).isEmpty();
          sessionDir.ifPresent(dir ->
              assertThat(processesMentioning(dir.toString())).as("processes referring to %s", dir).isEmpty());
        });
    sessionDir.ifPresent(dir -> assertThat(dir).as("the session directory").doesNotExist());
    assertThat(podIptables(lab).lines().filter(l -> l.toUpperCase().contains("MIRRORD")).toList())
        .as("iptables lines mentioning MIRRORD in the pod netns")
        .isEmpty();
  }

  /** The inode of {@code /proc/<pid>/ns/net} (the network namespace's identity). */
  static long netnsInode(String pid) {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc", pid, "ns/net"), "unix:ino")).longValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether {@code pid} has exited: gone, or a zombie. An orphan (e.g. the agent after its CLI was killed) is reaped by
   * pid 1, which in some sandboxes does so only every few seconds; the zombie has exited all the same.
   */
  static boolean exited(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException | RuntimeException e) {
      return true; // no /proc entry: gone
    }
  }

  /** Whether SIGINT is ignored in this JVM (it then is in every child too, unless reset). */
  static boolean sigintIgnoredHere() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << (2 - 1))) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }

  /** {@code kill -<signal> <pid>} (a negative pid is a process group); errors are ignored. */
  static void kill(String signal, long pid) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal, "--", Long.toString(pid))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      // nothing to signal
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String cmdline(long pid) {
    return new String(readQuietly(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
        .replace('\0', ' ');
  }

  private static List<Long> pids() {
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      return entries.map(p -> p.getFileName().toString())
          .filter(n -> !n.isEmpty() && n.chars().allMatch(Character::isDigit))
          .map(Long::parseLong)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] readQuietly(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException | RuntimeException e) {
      return new byte[0]; // exited meanwhile, or a kernel thread
    }
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
