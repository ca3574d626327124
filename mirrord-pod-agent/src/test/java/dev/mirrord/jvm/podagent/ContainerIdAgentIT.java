package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.Target;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --container-id} the way the agent Job runs it, on this host: a "container" is a process in
 * its own network namespace ({@code unshare --net sleep}) placed in a cgroup named like containerd's
 * systemd scope ({@code cri-containerd-<64 hex>.scope}, under the cgroup v1 {@code pids} hierarchy);
 * the fat jar must find its PID from the ID alone, re-run itself under nsenter into that namespace
 * and serve from there. Needs root, nsenter, unshare and a writable {@code /sys/fs/cgroup/pids}.
 */
@Timeout(90)
@EnabledIf("canRun")
class ContainerIdAgentIT {
  private static final Path JAR = Path.of(System.getProperty("mirrord.agent.jar", "target/mirrord-pod-agent.jar"));
  private static final Path PIDS = Path.of("/sys/fs/cgroup/pids");

  @TempDir Path dir;

  static boolean canRun() {
    return Privileges.isRoot()
        && Privileges.runs("nsenter", "--version")
        && Privileges.runs("unshare", "--net", "true")
        && Files.isWritable(PIDS);
  }

  @Test
  void sigtermToTheWrapperStopsTheAgentItStarted() throws Exception {
    String id = HexFormat.of().formatHex(randomBytes(32));
    Path cgroup = PIDS.resolve("mirrord-it-term.slice").resolve("crio-" + id + ".scope");
    Process container = new ProcessBuilder("unshare", "--net", "--", "sleep", "120").start();
    Process agent = null;
    try {
      Files.createDirectories(cgroup);
      Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(container.pid()));
      Path socket = dir.resolve("agent.sock");
      agent = startAgent("cri-o://" + id, socket, "tok");
      assertThat(readyLine(agent)).isEqualTo("MIRRORD_AGENT_READY unix:" + socket);
      List<ProcessHandle> inner = agent.toHandle().descendants().toList();
      assertThat(inner).isNotEmpty();

      agent.destroy(); // SIGTERM, as when the Job is deleted

      assertThat(agent.waitFor(15, TimeUnit.SECONDS)).isTrue();
      for (ProcessHandle h : inner) {
        assertThat(h.onExit().get(15, TimeUnit.SECONDS).isAlive()).isFalse();
      }
      assertThat(socket).doesNotExist();
    } finally {
      if (agent != null) {
        agent.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
      }
      container.destroyForcibly();
      container.waitFor(10, TimeUnit.SECONDS);
      Files.deleteIfExists(cgroup);
      Files.deleteIfExists(cgroup.getParent());
    }
  }

  private Process startAgent(String containerId, Path socket, String token) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    javaExecutable(), "-jar", JAR.toString(),
                    "--container-id", containerId,
                    "--listen", "unix:" + socket,
                    "--no-stdin", "--accept-timeout", "20"))
            .redirectError(dir.resolve("agent.err").toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().put("MIRRORD_AGENT_TOKEN", token);
    return pb.start();
  }

  private String readyLine(Process agent) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
    String line =
        readLineWithin30s(out);
    assertThat(line).as("stderr: %s", Files.readString(dir.resolve("agent.err"))).isNotNull();
    return line;
  }

  @Test
  void containerIdIsResolvedToThePidAndTheAgentServesFromItsNetworkNamespace() throws Exception {
    String id = HexFormat.of().formatHex(randomBytes(32));
    Path cgroup = PIDS.resolve("mirrord-it.slice").resolve("cri-containerd-" + id + ".scope");
    Process container = new ProcessBuilder("unshare", "--net", "--", "sleep", "120").start();
    Process agent = null;
    try {
      Files.createDirectories(cgroup);
      Files.writeString(cgroup.resolve("cgroup.procs"), Long.toString(container.pid()));
      assertThat(Files.readString(Path.of("/proc", Long.toString(container.pid()), "cgroup")))
          .contains("cri-containerd-" + id + ".scope");

      Path socket = dir.resolve("agent.sock");
      ProcessBuilder pb =
          new ProcessBuilder(
                  List.of(
                      javaExecutable(), "-jar", JAR.toString(),
                      "--container-id", "containerd://" + id,
                      "--listen", "unix:" + socket,
                      "--no-stdin", "--accept-timeout", "20"))
              .redirectError(dir.resolve("agent.err").toFile());
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().put("MIRRORD_AGENT_TOKEN", "tok-" + id);
      agent = pb.start();
      BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
      String ready =
          readLineWithin30s(out);
      assertThat(ready).as("stderr: %s", Files.readString(dir.resolve("agent.err"))).isEqualTo("MIRRORD_AGENT_READY unix:" + socket);

      try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        cli.handshake("tok-" + id);
        cli.send(new Target.TargetInfoRequest(1));
        Target.TargetInfo info = cli.receive(Target.TargetInfo.class);
        assertThat(info.pid()).isEqualTo((int) container.pid());
        assertThat(info.netnsInode()).isEqualTo(netnsInode(container.pid())).isNotEqualTo(netnsInode(ProcessHandle.current().pid()));
      }
      // the CLI's connection closed: the agent (and the wrapper waiting for it) exit 0
      assertThat(agent.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(agent.exitValue()).isZero();
    } finally {
      if (agent != null) {
        agent.destroyForcibly();
        agent.waitFor(10, TimeUnit.SECONDS);
      }
      container.destroyForcibly();
      container.waitFor(10, TimeUnit.SECONDS);
      Files.deleteIfExists(cgroup);
      Files.deleteIfExists(cgroup.getParent());
    }
  }

  private static long netnsInode(long pid) throws IOException {
    return ((Number) Files.getAttribute(Path.of("/proc", Long.toString(pid), "ns", "net"), "unix:ino")).longValue();
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  private static String javaExecutable() {
    return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /** The next line of {@code out}, waiting at most 30 s (the agent prints its ready line once listening). */
  private static String readLineWithin30s(BufferedReader out) throws Exception {
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return out.readLine();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            })
        .get(30, TimeUnit.SECONDS);
  }
}
