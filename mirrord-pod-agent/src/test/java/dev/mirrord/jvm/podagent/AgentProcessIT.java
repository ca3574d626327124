package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.relay.Transport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fat jar as the CLI runs it: a child process with stdin a pipe, stdout read for the one {@code
 * MIRRORD_AGENT_READY} line, stderr to a file.
 */
@Timeout(90)
class AgentProcessIT {
  private static final Path JAR =
      Path.of(System.getProperty("mirrord.agent.jar", "target/mirrord-pod-agent.jar"));
  private static final String JAVA =
      ProcessHandle.current()
          .info()
          .command()
          .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());

  /** The contract: the agent is gone this soon after its reason to exit. */
  private static final Duration EXIT_WITHIN = Duration.ofSeconds(2);

  @TempDir Path dir;

  /** A child process killed (SIGKILL) on close. */
  record Child(Process process) implements AutoCloseable {
    static Child start(Map<String, String> env, String... command) throws IOException {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().putAll(env);
      return new Child(pb.start());
    }

    int pid() {
      return (int) process.pid();
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The agent process under test. */
  static final class Agent implements AutoCloseable {
    final Process process;
    final BufferedReader stdout;
    final Path stderr;

    Agent(Process process, Path stderr) {
      this.process = process;
      this.stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.stderr = stderr;
    }

    static ProcessBuilder builder(
        List<String> prefix, Path stderr, Map<String, String> env, String... args) {
      List<String> command = new ArrayList<>(prefix);
      command.addAll(List.of(JAVA, "-jar", JAR.toString()));
      command.addAll(List.of(args));
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().putAll(env);
      return pb;
    }

    static Agent start(Path stderr, Map<String, String> env, String... args) throws IOException {
      return new Agent(builder(List.of(), stderr, env, args).start(), stderr);
    }

    /**
     * An agent for {@code target} on the unix socket {@code socket}, token "t", with {@code more} options, logging to
     * {@code dir/agent.log} and its stderr in {@code dir/agent.err}.
     */
    static Agent forTarget(Path dir, Map<String, String> env, Child target, Path socket, String... more)
        throws IOException {
      List<String> args = new ArrayList<>(
          List.of("--target-pid", Integer.toString(target.pid()), "--listen", "unix:" + socket, "--token", "t"));
      args.addAll(List.of(more));
      args.addAll(List.of("--log-file", dir.resolve("agent.log").toString()));
      return start(dir.resolve("agent.err"), env, args.toArray(String[]::new));
    }

    /** The address from the READY line; fails if any other line comes first. */
    String awaitReady() throws Exception {
      String line =
          CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return stdout.readLine();
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  })
              .get(30, TimeUnit.SECONDS);
      assertThat(line)
          .as("first stdout line; stderr: %s", stderrText())
          .startsWith("MIRRORD_AGENT_READY ");
      return line.substring("MIRRORD_AGENT_READY ".length());
    }

    /** Waits for the exit and returns its code; fails if the agent is still running. */
    int awaitExit(Duration timeout) throws InterruptedException {
      assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
          .as("agent exited within %s; stderr: %s", timeout, stderrText())
          .isTrue();
      return process.exitValue();
    }

    /** Whatever stdout carried after the READY line (must be nothing). */
    String restOfStdout() throws IOException {
      StringBuilder sb = new StringBuilder();
      for (String l; (l = stdout.readLine()) != null; ) {
        sb.append(l).append('\n');
      }
      return sb.toString();
    }

    String stderrText() {
      try {
        return Files.readString(stderr);
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A copy of sleep(1) under its own name, as the target process: a {@code pkill sleep} elsewhere
   * on a shared machine cannot take it away mid-test.
   */
  private String targetCommand() throws IOException {
    Path copy = dir.resolve("mjt-target");
    if (!Files.exists(copy)) {
      Files.copy(Path.of("/bin/sleep"), copy);
      Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return copy.toString();
  }

  private static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  }

  private static long ownNetnsInode() throws IOException {
    return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
  }

  private static long netnsInodeOf(long pid) throws IOException {
    return ((Number) Files.getAttribute(Path.of("/proc/" + pid + "/ns/net"), "unix:ino"))
        .longValue();
  }

  @Test
  void servesTargetInfoAndEnvThenExits0WhenStdinCloses() throws Exception {
    String marker = randomHex();
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of("MJT_MARKER", marker), targetCommand(), "120");
        Agent agent =
            Agent.start(
                dir.resolve("agent.err"),
                Map.of("MIRRORD_AGENT_TOKEN", "tok-" + marker),
                "--target-pid",
                Integer.toString(target.pid()),
                "--listen",
                "unix:" + socket)) {
      assertThat(agent.awaitReady()).isEqualTo("unix:" + socket);
      assertThat(Files.getPosixFilePermissions(socket)).hasToString("[OWNER_READ, OWNER_WRITE]");

      try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        Session.HelloOk ok = cli.handshake("tok-" + marker);
        assertThat(ok.agentVersion()).isNotBlank();
        cli.send(new Target.TargetInfoRequest(11));
        Target.TargetInfo info = cli.receive(Target.TargetInfo.class);
        assertThat(info.requestId()).isEqualTo(11);
        assertThat(info.pid()).isEqualTo(target.pid());
        assertThat(info.netnsInode()).isEqualTo(ownNetnsInode());
        assertThat(info.hostname()).isNotBlank();
        assertThat(info.addresses()).doesNotContain("127.0.0.1", "::1");
        cli.send(new Target.EnvRequest(12));
        Target.EnvResponse env = cli.receive(Target.EnvResponse.class);
        assertThat(env.requestId()).isEqualTo(12);
        assertThat(env.env().value()).containsEntry("MJT_MARKER", marker);

        agent.process.getOutputStream().close();
        assertThat(agent.awaitExit(EXIT_WITHIN)).isZero();
        assertThat(cli.awaitClosed(Duration.ofSeconds(5))).isTrue();
      }
      assertThat(socket).doesNotExist();
      assertThat(agent.restOfStdout()).isEmpty();
    }
  }

  @Test
  void exits0WhenTheFakeCliHoldingStdinIsKilled() throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of(), targetCommand(), "120")) {
      // The "CLI" is a sleeping process whose stdout is the agent's stdin: SIGKILL closes the pipe.
      List<Process> pipeline =
          ProcessBuilder.startPipeline(
              List.of(
                  new ProcessBuilder(targetCommand(), "600")
                      .redirectError(ProcessBuilder.Redirect.DISCARD),
                  Agent.builder(
                      List.of(),
                      dir.resolve("agent.err"),
                      Map.of(),
                      "--target-pid",
                      Integer.toString(target.pid()),
                      "--listen",
                      "unix:" + socket,
                      "--token",
                      "t")));
      Process fakeCli = pipeline.get(0);
      try (Agent agent = new Agent(pipeline.get(1), dir.resolve("agent.err"))) {
        agent.awaitReady();
        try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
          cli.handshake("t");
          fakeCli.destroyForcibly().waitFor();
          assertThat(agent.awaitExit(EXIT_WITHIN)).isZero();
        }
        assertThat(socket).doesNotExist();
      } finally {
        fakeCli.destroyForcibly();
      }
    }
  }

  /** On either transport of the fat jar (epoll's native library loads from it). */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void exits0WhenTheCliDisconnects(Transport transport) throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of(), targetCommand(), "120");
        Agent agent = Agent.forTarget(dir, Map.of(Transport.ENV, transport.toString()), target, socket)) {
      agent.awaitReady();
      try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        cli.handshake("t");
        assertThat(cli.ping(3)).isEqualTo(3);
      }
      assertThat(agent.awaitExit(EXIT_WITHIN)).isZero();
      assertThat(socket).doesNotExist();
      assertThat(agent.stderrText()).isEmpty();
      assertThat(Files.readString(dir.resolve("agent.log")))
          .contains("listening on unix:" + socket + " (" + transport + ")")
          .contains("exiting: the CLI's connection closed");
    }
  }

  @Test
  void sigtermRunsTheSameCleanUp() throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of(), targetCommand(), "120");
        Agent agent = Agent.forTarget(dir, Map.of(), target, socket)) {
      agent.awaitReady();
      try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        cli.handshake("t");
        // Not Process.destroy(): it also closes our end of stdin, which would race the signal.
        run("kill", "-TERM", Long.toString(agent.process.pid()));
        // The JVM reports a signal death as 128 + 15 whatever the hooks do.
        assertThat(agent.awaitExit(EXIT_WITHIN)).isEqualTo(143);
        assertThat(cli.awaitClosed(Duration.ofSeconds(5))).isTrue();
      }
      assertThat(socket).doesNotExist();
      assertThat(Files.readString(dir.resolve("agent.log"))).contains("exiting: JVM shutdown");
    }
  }

  /** A kept agent ({@code --idle-timeout}) whose target exits leaves at once, not at the end of its idle time. */
  @Test
  void aKeptAgentLeavesWhenItsTargetExits() throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of(), targetCommand(), "120");
        Agent agent = Agent.forTarget(dir, Map.of(), target, socket, "--no-stdin", "--idle-timeout", "60")) {
      agent.awaitReady();
      try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        cli.handshake("t");
        target.process().destroyForcibly().waitFor();
        assertThat(cli.ping(2)).as("the session runs on").isEqualTo(2);
      }
      // the JDK polls a process that is not the agent's child from 0.3 s apart; the exit comes at the first of the
      // client's disconnect and that poll, not after the 60 s of idle time
      assertThat(agent.awaitExit(Duration.ofSeconds(3))).isZero();
      assertThat(socket).doesNotExist();
      assertThat(Files.readString(dir.resolve("agent.log")))
          .containsPattern("exiting: (last client gone \\(.*\\) and )?the target \\(pid " + target.pid()
              + "\\) has exited");
    }
  }

  @Test
  void exits0WhenNobodyAuthenticatesWithinTheAcceptTimeout() throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Child target = Child.start(Map.of(), targetCommand(), "120");
        Agent agent =
            Agent.start(
                dir.resolve("agent.err"),
                Map.of(),
                "--target-pid",
                Integer.toString(target.pid()),
                "--listen",
                "unix:" + socket,
                "--token",
                "t",
                "--accept-timeout",
                "1")) {
      agent.awaitReady();
      // A connection that never says Hello does not keep the agent alive.
      try (TestClient idle = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
        assertThat(agent.awaitExit(Duration.ofSeconds(1).plus(EXIT_WITHIN))).isZero();
        assertThat(idle.awaitClosed(Duration.ofSeconds(5))).isTrue();
      }
      assertThat(socket).doesNotExist();
    }
  }

  @Test
  void unknownPidIsExit3WithOneLineOnStderr() throws Exception {
    String pid =
        new String(TargetProcess.readProcFile(Path.of("/proc/sys/kernel/pid_max"))).strip();
    try (Agent agent =
        Agent.start(
            dir.resolve("agent.err"),
            Map.of("MIRRORD_AGENT_TOKEN", "t"),
            "--target-pid",
            pid,
            "--listen",
            "unix:" + dir.resolve("agent.sock"))) {
      assertThat(agent.awaitExit(Duration.ofSeconds(30))).isEqualTo(ExitCodes.TARGET_NOT_FOUND);
      assertThat(agent.stderrText())
          .isEqualTo("mirrord-agent: target pid " + pid + " does not exist\n");
      assertThat(agent.restOfStdout()).isEmpty();
      assertThat(dir.resolve("agent.sock")).doesNotExist();
    }
  }

  @Test
  void badUsageIsExit2WithOneLineOnStderr() throws Exception {
    try (Agent agent =
        Agent.start(
            dir.resolve("agent.err"),
            Map.of(),
            "--target-pid",
            "1",
            "--listen",
            "sctp:1.2.3.4:5",
            "--token",
            "t")) {
      assertThat(agent.awaitExit(Duration.ofSeconds(30))).isEqualTo(ExitCodes.USAGE);
      assertThat(agent.stderrText().lines())
          .singleElement()
          .asString()
          .startsWith("mirrord-agent: ")
          .contains("--listen");
      assertThat(agent.restOfStdout()).isEmpty();
    }
  }

  @Test
  @EnabledIf("dev.mirrord.jvm.podagent.Privileges#canDropToNobody")
  void agentWithoutPrivilegeIsExit4NamingTheFix() throws Exception {
    try (Child target = Child.start(Map.of(), targetCommand(), "120")) {
      Process p =
          Agent.builder(
                  List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"),
                  dir.resolve("agent.err"),
                  Map.of("MIRRORD_AGENT_TOKEN", "t"),
                  "--target-pid",
                  Integer.toString(target.pid()),
                  "--listen",
                  "tcp:127.0.0.1:0")
              .directory(Path.of("/").toFile())
              .start();
      try (Agent agent = new Agent(p, dir.resolve("agent.err"))) {
        assertThat(agent.awaitExit(Duration.ofSeconds(30))).isEqualTo(ExitCodes.NOT_PERMITTED);
        assertThat(agent.stderrText().lines())
            .singleElement()
            .asString()
            .startsWith("mirrord-agent: cannot read /proc/" + target.pid() + "/environ")
            .contains("run the agent as root");
      }
    }
  }

  /** A network namespace made for one test; deleted on close. */
  record Netns(String name) implements AutoCloseable {
    static Netns create() throws Exception {
      Netns ns = new Netns("mjt-" + randomHex());
      run("ip", "netns", "add", ns.name);
      return ns;
    }

    @Override
    public void close() {
      if (!Privileges.runs("ip", "netns", "delete", name)) {
        throw new IllegalStateException("could not delete netns " + name);
      }
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
  }

  @Test
  @EnabledIf("dev.mirrord.jvm.podagent.Privileges#canManageNetns")
  void underNsenterItServesFromTheTargetsNetns() throws Exception {
    Path socket = dir.resolve("agent.sock");
    try (Netns ns = Netns.create()) {
      boolean veth =
          Privileges.runs(
              "ip", "-n", ns.name(), "link", "add", "mjt0", "type", "veth", "peer", "name", "mjt1");
      if (veth) {
        run("ip", "-n", ns.name(), "addr", "add", "198.18.42.1/24", "dev", "mjt0");
        run("ip", "-n", ns.name(), "link", "set", "mjt0", "up");
        run("ip", "-n", ns.name(), "link", "set", "mjt1", "up");
      }
      try (Child target =
          Child.start(
              Map.of(), "nsenter", "--net=/run/netns/" + ns.name(), "--", targetCommand(), "120")) {
        long own = ownNetnsInode();
        // nsenter execs the target (`ip netns exec` forks: killing it would orphan the target).
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> target.process().info().command().orElse("").endsWith("/mjt-target"));
        await().atMost(Duration.ofSeconds(10)).until(() -> netnsInodeOf(target.pid()) != own);
        long expected = netnsInodeOf(target.pid());
        String nsenter = "--net=/proc/" + target.pid() + "/ns/net";
        Process p =
            Agent.builder(
                    List.of("nsenter", nsenter, "--"),
                    dir.resolve("agent.err"),
                    Map.of("MIRRORD_AGENT_TOKEN", "t", Transport.ENV, "epoll"),
                    "--target-pid",
                    Integer.toString(target.pid()),
                    "--listen",
                    "unix:" + socket,
                    "--log-file",
                    dir.resolve("agent.log").toString())
                .start();
        try (Agent agent = new Agent(p, dir.resolve("agent.err"))) {
          agent.awaitReady();
          try (TestClient cli = TestClient.connect(UnixDomainSocketAddress.of(socket))) {
            cli.handshake("t");
            cli.send(new Target.TargetInfoRequest(1));
            Target.TargetInfo info = cli.receive(Target.TargetInfo.class);
            assertThat(info.netnsInode()).isEqualTo(expected).isNotEqualTo(own);
            assertThat(info.pid()).isEqualTo(target.pid());
            if (veth) {
              assertThat(info.addresses()).containsExactly("198.18.42.1");
            }
            agent.process.getOutputStream().close();
            assertThat(agent.awaitExit(EXIT_WITHIN)).isZero();
          }
          assertThat(socket).doesNotExist();
          // The native library loads inside the target's netns too (nsenter --net keeps the files).
          assertThat(Files.readString(dir.resolve("agent.log")))
              .contains("listening on unix:" + socket + " (epoll)");
        }
      }
    }
  }
}
