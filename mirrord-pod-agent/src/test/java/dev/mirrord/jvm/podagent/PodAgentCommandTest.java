package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Target;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class PodAgentCommandTest {
  private static final String SELF_PID = Long.toString(ProcessHandle.current().pid());

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int execute(CommandLine cl, String... args) {
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  private int execute(String... args) {
    return execute(PodAgentCommand.commandLine(new PodAgentCommand()), args);
  }

  private CommandLine withEnv(Map<String, String> env, InputStream stdin) {
    return PodAgentCommand.commandLine(new PodAgentCommand(env::get, stdin));
  }

  private static String nonexistentPid() throws Exception {
    // Pids are always below pid_max.
    return new String(TargetProcess.readProcFile(Path.of("/proc/sys/kernel/pid_max"))).strip();
  }

  /**
   * The help, as the annotated command printed it before the model was built by hand (the file is
   * that output): every option with its label, description and default, the exit codes.
   */
  @Test
  void helpListsEveryOptionAndExitCode() throws Exception {
    String expected;
    try (InputStream in = getClass().getResourceAsStream("/agent-help.txt")) {
      expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    assertThat(execute("--help")).isZero();

    assertThat(out.toString()).isEqualTo(expected);
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void versionNamesTheProtocol() {
    assertThat(execute("-V")).isZero();
    assertThat(out.toString()).startsWith("mirrord-agent ").contains("(protocol 1.");
  }

  /**
   * PodAgentMain turns picocli's reflective built-in converters off ({@code OptionSpecs.skipReflectiveConverters}):
   * every option's type is one picocli still converts, or a {@code Path} with its own converter.
   */
  @Test
  void everyOptionConvertsWithoutPicocliReflectiveConverters() {
    for (CommandLine.Model.OptionSpec o : PodAgentCommand.newCommandLine().getCommandSpec().options()) {
      Class<?> type = o.auxiliaryTypes()[0]; // the type itself, or a list's element type
      if (type == Path.class) {
        assertThat(o.converters()).as(o.longestName()).isNotEmpty();
      } else {
        assertThat(type.getName()).as(o.longestName()).doesNotMatch(dev.mirrord.jvm.picocli.OptionSpecs.CONVERTER_EXCLUDES);
      }
    }
  }

  /** Every option reaches its field, and the defaults apply to those not given. */
  @Test
  void parsedOptionsReachTheFields() {
    PodAgentCommand command = new PodAgentCommand(Map.<String, String>of()::get, InputStream.nullInputStream());
    CommandLine cl = PodAgentCommand.commandLine(command);
    cl.parseArgs(
        "--target-pid=7", "--no-stdin", "--remove-on-exit", "/a", "--remove-on-exit=/b", "--listen=unix:/s",
        "--token=t", "--no-flush-connections", "--session-id=s1", "--log-file=/l", "-v", "--no-warm-up");
    command.bind();
    assertThat(command.targetPid).isEqualTo(7);
    assertThat(command.containerId).isNull();
    assertThat(command.noStdin).isTrue();
    assertThat(command.removeOnExit).containsExactly(Path.of("/a"), Path.of("/b"));
    assertThat(command.listen).hasToString(ListenAddress.parse("unix:/s").toString());
    assertThat(command.token).isEqualTo("t");
    assertThat(command.noFlushConnections).isTrue();
    assertThat(command.sessionId).isEqualTo("s1");
    assertThat(command.logFile).isEqualTo(Path.of("/l"));
    assertThat(command.verbose).isTrue();
    assertThat(command.idleTimeoutSeconds).isZero();
    assertThat(command.acceptTimeoutSeconds).isEqualTo(30);
    assertThat(command.handBackGraceSeconds).isEqualTo(3);
    assertThat(command.noCaptureWarmUp).isTrue();

    PodAgentCommand other = new PodAgentCommand(Map.<String, String>of()::get, InputStream.nullInputStream());
    PodAgentCommand.commandLine(other)
        .parseArgs("--container-id=docker://x", "--idle-timeout=9", "--accept-timeout=0", "--hand-back-grace=1");
    other.bind();
    assertThat(other.containerId).isEqualTo("docker://x");
    assertThat(other.targetPid).isZero();
    assertThat(other.noStdin).isFalse();
    assertThat(other.removeOnExit).isEmpty();
    assertThat(other.listen).hasToString(ListenAddress.parse("tcp:127.0.0.1:0").toString());
    assertThat(other.idleTimeoutSeconds).isEqualTo(9);
    assertThat(other.acceptTimeoutSeconds).isZero();
    assertThat(other.handBackGraceSeconds).isEqualTo(1);
    assertThat(other.noCaptureWarmUp).isFalse();
    assertThat(other.verbose).isFalse();
  }

  @Test
  void missingTargetPidIsUsageError() {
    assertThat(execute("--token", "t")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("--target-pid");
    assertThat(out.toString()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--listen=bogus",
        "--listen=unix:relative",
        "--target-pid=abc",
        "--accept-timeout=soon",
        "--no-such-option"
      })
  void badUsageIsExit2AndOneLineWithoutStackTrace(String bad) {
    int code =
        execute(
            withEnv(Map.of("MIRRORD_AGENT_TOKEN", "t"), InputStream.nullInputStream()),
            "--target-pid",
            SELF_PID,
            bad);
    assertThat(code).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString().lines()).hasSize(1).first().asString().startsWith("mirrord-agent: ");
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void plainCommandLineAlsoGivesExit2OnBadUsage() {
    assertThat(execute("--target-pid", SELF_PID, "--listen", "udp:1.2.3.4:5"))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("expected unix:/path or tcp:HOST:PORT");
  }

  @Test
  void missingTokenIsUsageErrorNamingTheEnvironmentVariable() {
    int code = execute(withEnv(Map.of(), InputStream.nullInputStream()), "--target-pid", SELF_PID);
    assertThat(code).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString())
        .isEqualTo(
            "mirrord-agent: no session token: set MIRRORD_AGENT_TOKEN (preferred) or pass --token"
                + System.lineSeparator());
  }

  @Test
  void negativeAcceptTimeoutIsUsageError() {
    assertThat(execute("--target-pid", SELF_PID, "--token", "t", "--accept-timeout", "-1"))
        .isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString().lines()).hasSize(1);
  }

  @Test
  void unknownPidIsExit3WithOneLine() throws Exception {
    String pid = nonexistentPid();
    assertThat(execute("--target-pid", pid, "--token", "t"))
        .as(err::toString)
        .isEqualTo(ExitCodes.TARGET_NOT_FOUND);
    assertThat(err.toString())
        .isEqualTo("mirrord-agent: target pid " + pid + " does not exist" + System.lineSeparator());
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void kernelThreadTargetIsExit3() throws Exception {
    Path comm = Path.of("/proc/2/comm");
    assumeTrue(
        Files.exists(comm)
            && new String(TargetProcess.readProcFile(comm)).strip().equals("kthreadd"),
        "pid 2 is kthreadd (not in a pid namespace)");
    assertThat(execute("--target-pid", "2", "--token", "t")).isEqualTo(ExitCodes.TARGET_NOT_FOUND);
    assertThat(err.toString().lines()).singleElement().asString().contains("kernel thread");
  }

  @Test
  void helpAndVersionGoToStdoutWithExit0() {
    assertThat(execute("--version")).isZero();
    assertThat(out.toString()).startsWith("mirrord-agent ").contains("protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT);
  }

  @Test
  void servesUntilTheCliDisconnectsThenExits0(@TempDir Path dir) throws Exception {
    Path socket = dir.resolve("agent.sock");
    PipedOutputStream cliEnd = new PipedOutputStream();
    CommandLine cl = withEnv(Map.of("MIRRORD_AGENT_TOKEN", "s3cret"), new PipedInputStream(cliEnd));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () ->
                execute(
                    cl,
                    "--target-pid",
                    SELF_PID,
                    "--listen",
                    "unix:" + socket,
                    "--log-file",
                    dir.resolve("agent.log").toString()));

    await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("\n"));
    assertThat(out.toString())
        .isEqualTo("MIRRORD_AGENT_READY unix:" + socket + System.lineSeparator());
    assertThat(Files.getPosixFilePermissions(socket)).hasToString("[OWNER_READ, OWNER_WRITE]");
    try (TestClient cli = TestClient.connect(java.net.UnixDomainSocketAddress.of(socket))) {
      cli.handshake("s3cret");
      cli.send(new Target.TargetInfoRequest(5));
      assertThat(cli.receive(Target.TargetInfo.class).pid()).isEqualTo(Integer.parseInt(SELF_PID));
    }
    assertThat(exit.get(5, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
    assertThat(socket).doesNotExist();
    assertThat(err.toString()).isEmpty();
    assertThat(Files.readString(dir.resolve("agent.log")))
        .contains("authenticated")
        .contains("exiting: the CLI's connection closed");
    cliEnd.close();
  }

  @Test
  void exitsWhenNobodyAuthenticatesWithinTheAcceptTimeout() throws Exception {
    PipedOutputStream cliEnd = new PipedOutputStream();
    CommandLine cl = withEnv(Map.of("MIRRORD_AGENT_TOKEN", "t"), new PipedInputStream(cliEnd));
    long start = System.nanoTime();
    int code = execute(cl, "--target-pid", SELF_PID, "--accept-timeout", "1");
    assertThat(code).isEqualTo(ExitCodes.OK);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(out.toString()).startsWith("MIRRORD_AGENT_READY tcp:127.0.0.1:");
    cliEnd.close();
  }

  @Test
  void exitsAtOnceWhenStdinIsAlreadyClosed() {
    CommandLine cl = withEnv(Map.of(), new ByteArrayInputStream(new byte[0]));
    assertThat(execute(cl, "--target-pid", SELF_PID, "--token", "t")).isEqualTo(ExitCodes.OK);
  }

  @Test
  void tcpListenWithNoStdinServesAClientOverTcpAndExitsAfterTheIdleTimeout() throws Exception {
    // In a pod: stdin is closed (no liveness pipe), the agent listens on TCP for the port-forward.
    CommandLine cl = withEnv(Map.of("MIRRORD_AGENT_TOKEN", "s3cret"), new ByteArrayInputStream(new byte[0]));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () -> execute(cl, "--target-pid", SELF_PID, "--listen", "tcp:127.0.0.1:0", "--no-stdin", "--idle-timeout", "1"));

    await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("\n"));
    String address = out.toString().strip().substring("MIRRORD_AGENT_READY tcp:".length());
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    try (TestClient cli = TestClient.connect(new java.net.InetSocketAddress("127.0.0.1", port))) {
      cli.handshake("s3cret");
      cli.send(new Target.TargetInfoRequest(5));
      assertThat(cli.receive(Target.TargetInfo.class).pid()).isEqualTo(Integer.parseInt(SELF_PID));
    }
    long closed = System.nanoTime();
    assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
    assertThat(Duration.ofNanos(System.nanoTime() - closed)).isGreaterThan(Duration.ofMillis(800));
  }

  @Test
  void wrongTokenOverTcpIsRefused() throws Exception {
    CommandLine cl = withEnv(Map.of("MIRRORD_AGENT_TOKEN", "s3cret"), new ByteArrayInputStream(new byte[0]));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () -> execute(cl, "--target-pid", SELF_PID, "--listen", "tcp:127.0.0.1:0", "--no-stdin", "--accept-timeout", "2"));
    await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("\n"));
    String address = out.toString().strip().substring("MIRRORD_AGENT_READY tcp:".length());
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    try (TestClient intruder = TestClient.connect(new java.net.InetSocketAddress("127.0.0.1", port))) {
      intruder.send(new dev.mirrord.jvm.protocol.Session.Hello(dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT, "guess", "intruder"));
      assertThat(intruder.receive(dev.mirrord.jvm.protocol.Session.HelloRejected.class).reason()).isEqualTo("bad session token");
      assertThat(intruder.awaitClosed(Duration.ofSeconds(5))).isTrue();
    }
    // nobody authenticated: the accept timeout ends the agent
    assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.OK);
  }

  @Test
  void containerIdWithoutAnyProcessOfItIsExit3(@TempDir Path proc) throws Exception {
    CommandLine cl =
        PodAgentCommand.commandLine(
            new PodAgentCommand(Map.of("MIRRORD_AGENT_TOKEN", "t")::get, InputStream.nullInputStream(), proc));
    String id = "containerd://" + "ab".repeat(32);

    assertThat(execute(cl, "--container-id", id, "--no-stdin")).isEqualTo(ExitCodes.TARGET_NOT_FOUND);
    assertThat(err.toString())
        .isEqualTo("mirrord-agent: no process of container " + id + " in " + proc
            + "; the agent must run on the target's node with hostPID: true" + System.lineSeparator());
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void malformedContainerIdIsUsageError() {
    assertThat(execute("--container-id", "containerd://nope", "--token", "t")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString().lines()).singleElement().asString().startsWith("mirrord-agent: bad --container-id: ");
  }

  @Test
  void containerIdAndTargetPidTogetherIsUsageError() {
    assertThat(execute("--container-id", "ab".repeat(32), "--target-pid", SELF_PID, "--token", "t")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("not both");
  }

  @Test
  void negativeIdleTimeoutIsUsageError() {
    assertThat(execute("--target-pid", SELF_PID, "--token", "t", "--idle-timeout", "-1")).isEqualTo(ExitCodes.USAGE);
  }
}
