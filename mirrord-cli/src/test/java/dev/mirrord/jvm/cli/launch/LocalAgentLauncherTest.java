package dev.mirrord.jvm.cli.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalAgentLauncherTest {

  @TempDir Path tmp;
  Path proc;
  AgentRequest request;

  @BeforeEach
  void setUp() throws IOException {
    proc = Files.createDirectories(tmp.resolve("proc"));
    Files.createDirectories(proc.resolve("42"));
    Path session = Files.createDirectories(tmp.resolve("s"));
    request =
        new AgentRequest(new TargetSpec.Pid(42), session.resolve("agent.sock"), "tok3n", tmp.resolve("agent.log"), false);
  }

  private LocalAgentLauncher launcher(LocalAgentLauncher.CommandPrefix prefix, Duration ready) {
    return new LocalAgentLauncher(proc, () -> true, prefix, ready);
  }

  @Test
  void missingPidIsTargetNotFound() {
    AgentRequest gone = new AgentRequest(new TargetSpec.Pid(7), request.socketPath(), "t", request.logFile(), false);
    assertThatThrownBy(() -> launcher(FakeAgentCommands.shell("exit 0"), Duration.ofSeconds(1)).launch(gone))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.TARGET_NOT_FOUND))
        .hasMessage("target pid 7 does not exist; pick a running process (ps -e)");
  }

  @Test
  void notRootIsNotPermitted() {
    var notRoot = new LocalAgentLauncher(proc, () -> false, FakeAgentCommands.shell("exit 0"), Duration.ofSeconds(1));
    assertThatThrownBy(() -> notRoot.launch(request))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_PERMITTED))
        .hasMessage("--target pid/42 needs root to enter the target's network namespace; run with sudo");
  }

  @Test
  void kubernetesTargetsAreNotServedHere() {
    AgentRequest pod = new AgentRequest(new TargetSpec.Pod("web", null), request.socketPath(), "t", request.logFile(), false);
    assertThatThrownBy(() -> launcher(FakeAgentCommands.shell("exit 0"), Duration.ofSeconds(1)).launch(pod))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_SUPPORTED_HERE));
  }

  @Test
  void agentExitingBeforeReadyReportsCodeAndLastStderrLines() {
    var l = launcher(FakeAgentCommands.shell("echo starting >&2; echo 'no such netns' >&2; exit 9"), Duration.ofSeconds(10));
    assertThatThrownBy(() -> l.launch(request))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.AGENT_FAILED))
        .hasMessageStartingWith("the mirrord agent exited with code 9 before it was ready (starting | no such netns); see ")
        .hasMessageNotContaining("\n");
  }

  @Test
  void agentExitCodesForTargetAndPermissionMapToTheSameCliCodes() {
    var gone = launcher(FakeAgentCommands.shell("echo 'pid 42 is gone' >&2; exit 3"), Duration.ofSeconds(10));
    assertThatThrownBy(() -> gone.launch(request))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.TARGET_NOT_FOUND));
    var denied = launcher(FakeAgentCommands.shell("exit 4"), Duration.ofSeconds(10));
    assertThatThrownBy(() -> denied.launch(request))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_PERMITTED));
  }

  @Test
  void noReadyLineInTimeIsAgentFailedAndTheAgentIsStopped() throws IOException {
    Path pidFile = tmp.resolve("agent.pid");
    var l = launcher(FakeAgentCommands.shell("echo $$ > " + pidFile + "; exec sleep 30"), Duration.ofMillis(1500));
    assertThatThrownBy(() -> l.launch(request))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.AGENT_FAILED))
        .hasMessageStartingWith("the mirrord agent did not get ready within 1 s");
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }

  @Test
  void tokenTravelsInTheEnvironmentAndTheContractArgumentsAreGiven() throws IOException {
    Path seen = tmp.resolve("seen");
    var l = launcher(FakeAgentCommands.shell("echo \"$MIRRORD_AGENT_TOKEN|$*\" > " + seen + "; exit 1"), Duration.ofSeconds(10));
    assertThatThrownBy(() -> l.launch(request)).isInstanceOf(MirrordException.class);
    assertThat(Files.readString(seen).strip())
        .isEqualTo(
            "tok3n|--target-pid 42 --listen unix:"
                + request.socketPath()
                + " --accept-timeout 30 --session-id "
                + request.socketPath().toAbsolutePath().getParent().getFileName()
                + " --log-file "
                + request.logFile());
  }

  @Test
  void aSessionThatDoesNotMirrorTellsTheAgentToSkipItsCaptureWarmUp() {
    AgentRequest steal =
        new AgentRequest(
            request.target(), request.socketPath(), "t", request.logFile(), false, true, 3, false);
    assertThat(LocalAgentLauncher.agentArgs(steal)).endsWith("--no-warm-up");
    assertThat(LocalAgentLauncher.agentArgs(request)).doesNotContain("--no-warm-up");
    assertThat(steal.withTarget(new TargetSpec.Pid(9)))
        .isEqualTo(
            new AgentRequest(
                new TargetSpec.Pid(9), request.socketPath(), "t", request.logFile(), false, true, 3, false));
  }

  @Test
  void fakeAgentGetsReadyAndStopsWhenClosed() throws Exception {
    var l = launcher(FakeAgentCommands.fakePodAgent(), Duration.ofSeconds(20));
    RunningAgent agent = l.launch(request);
    try {
      assertThat(agent.address()).isEqualTo(UnixDomainSocketAddress.of(request.socketPath()));
      try (SocketChannel ch = SocketChannel.open(agent.address())) {
        assertThat(ch.isConnected()).isTrue();
      }
    } finally {
      agent.close();
    }
    assertThat(request.socketPath()).doesNotExist();
  }

  @Test
  void effectiveUidIsTheSecondFieldOfTheUidLine() throws IOException {
    Path status = tmp.resolve("status");
    Files.writeString(status, "Name:\tjava\nUid:\t1000\t0\t1000\t1000\nGid:\t1\t1\t1\t1\n");
    assertThat(LocalAgentLauncher.effectiveUid(status)).isZero();
    assertThat(LocalAgentLauncher.effectiveUid(tmp.resolve("missing"))).isEqualTo(-1);
  }

  @Test
  void addressesParse() {
    assertThat(AgentAddress.parse("unix:/tmp/a.sock")).isEqualTo(UnixDomainSocketAddress.of("/tmp/a.sock"));
    assertThat(AgentAddress.parse("tcp:127.0.0.1:4000").toString()).contains("127.0.0.1").contains("4000");
    assertThatThrownBy(() -> AgentAddress.parse("nonsense")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theTrainingsRehearsalReusesAndReleasesItsStandInEntryAndStartsNothing() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("kept"));
    int self = (int) ProcessHandle.current().pid();
    long children = ProcessHandle.current().children().count();

    assertThat(LocalAgentLauncher.rehearseReuse(dir, Path.of("/proc"), self)).isTrue();

    KeptAgents kept = new KeptAgents(dir, (pid, socket) -> true);
    assertThat(kept.entries("")).singleElement().satisfies(e -> {
      assertThat(e.pid()).isEqualTo(self);
      assertThat(e.releasedAtMillis()).isPositive(); // taken (0) and released again, as a session's close does
    });
    assertThat(ProcessHandle.current().children().count()).isEqualTo(children);
  }
}
