package dev.mirrord.jvm.cli.container;

import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.fail;
import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.ok;
import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.recorded;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.AgentRequest;
import dev.mirrord.jvm.cli.launch.RunningAgent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerAgentLauncherTest {
  static final String ID = "d6a83ac42b79cc591c49e2a97077db97ab819cc71c723a12fc40730f6292019e";
  static final String IMAGE = "localhost/mirrord-pod-agent:0.1.0-SNAPSHOT";

  @TempDir Path tmp;
  AgentRequest request;
  StringWriter userErr = new StringWriter();
  FakeRuntimeCommands fake;
  List<TargetSpec.Pid> pidLaunches = new ArrayList<>();
  List<AgentRequest> pidRequests = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    Path session = Files.createDirectories(tmp.resolve("mirrord-9a8d08fb"));
    request = new AgentRequest(
        new TargetSpec.Container("i16web"), session.resolve("agent.sock"), "s3cret-token", tmp.resolve("agent.log"), true, false, 5, true);
    fake = new FakeRuntimeCommands().on("/usr/bin/podman", "container inspect i16web", ok(recorded("podman-4.3-inspect-running.json")));
  }

  ContainerAgentLauncher launcher(boolean agentContainer, boolean root, ContainerRuntime... runtimes) {
    return new ContainerAgentLauncher(
        new LocalContainers(List.of(runtimes), fake),
        fake,
        new ContainerAgentLauncher.Settings(agentContainer, IMAGE, Duration.ofSeconds(5)),
        () -> root,
        pid -> {
          pidLaunches.add(pid);
          return req -> {
            pidRequests.add(req);
            return new RunningAgent() {
              public SocketAddress address() { return null; }
              public String describe() { return "fake"; }
              public void close() {}
            };
          };
        },
        new UserNotices(new PrintWriter(userErr, true)),
        20000);
  }

  @Test
  void byDefaultTheAgentIsTheLocalPidLauncherForTheContainersFirstProcess() {
    launcher(false, true, LocalContainersTest.PODMAN).launch(request);

    assertThat(pidLaunches).containsExactly(new TargetSpec.Pid(18819));
    assertThat(pidRequests).singleElement().satisfies(r -> {
      assertThat(r.target()).isEqualTo(new TargetSpec.Pid(18819));
      assertThat(r.socketPath()).isEqualTo(request.socketPath());
      assertThat(r.token()).isEqualTo("s3cret-token");
      assertThat(r.flushConnections()).isFalse();
      assertThat(r.handBackGraceSeconds()).isEqualTo(5);
    });
    assertThat(userErr.toString()).startsWith("mirrord: resolved container/i16web: podman container i16web d6a83ac42b79, pid 18819 (");
  }

  @Test
  void theAgentContainerGetsOnlyTheContainerIdPrivilegedInTheHostPidNamespaceAndNoTokenOnItsCommandLine() {
    ContainerInfo target = new ContainerInfo(LocalContainersTest.PODMAN, ID, "i16web", 18819, "running");

    List<String> cmd = launcher(true, true, LocalContainersTest.PODMAN).runCommand(target, request, "mirrord-agent-9a8d08fb");

    Path session = request.socketPath().getParent();
    String log = request.logFile().toString();
    assertThat(cmd).containsSubsequence(
        "/usr/bin/podman", "run", "--rm", "-i", "--name", "mirrord-agent-9a8d08fb", "--pull=never",
        "--privileged", "--pid=host", "--network=none", "--label", "dev.mirrord.jvm.session=9a8d08fb",
        "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096",
        "-e", "MIRRORD_AGENT_TOKEN",
        "-v", session + ":" + session, "-v", log + ":" + log,
        IMAGE,
        "--container-id", "podman://" + ID,
        "--listen", "unix:" + request.socketPath(), "--accept-timeout", "30", "--session-id", "mirrord-9a8d08fb",
        "--log-file", log, "--no-flush-connections", "--hand-back-grace", "5", "-v");
    assertThat(cmd).doesNotContain("--target-pid").noneMatch(a -> a.contains("s3cret-token"));
    assertThat(ContainerAgentLauncher.agentContainerName(request)).isEqualTo("mirrord-agent-9a8d08fb");
  }

  @Test
  void dockerGetsTheSameFlagsButNoUlimitsItsDaemonHasItsOwn() {
    ContainerInfo target = new ContainerInfo(LocalContainersTest.DOCKER, ID, "web", 7, "running");

    List<String> cmd = launcher(true, true, LocalContainersTest.DOCKER).runCommand(target, request, "mirrord-agent-x");

    assertThat(cmd).contains("/usr/bin/docker", "--privileged", "--pid=host", "docker://" + ID).doesNotContain("--ulimit");
  }

  @Test
  void aMissingAgentImageIsOneLineNamingScriptsImageSh() {
    fake.on("/usr/bin/podman", "image inspect --format {{.Id}} " + IMAGE, fail(125, "Error: " + IMAGE + ": image not known"));

    assertThatThrownBy(() -> launcher(true, true, LocalContainersTest.PODMAN).launch(request))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.AGENT_FAILED))
        .hasMessage("the agent image " + IMAGE + " is not in podman's image store; build it with scripts/image.sh"
            + " (or pull it, or set agent.image)");
  }

  @Test
  void podmanAndTheLocalProcessNeedRoot() {
    for (boolean agentContainer : new boolean[] {false, true}) {
      assertThatThrownBy(() -> launcher(agentContainer, false, LocalContainersTest.PODMAN).launch(request))
          .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_PERMITTED))
          .hasMessageStartingWith("--target container/i16web needs root to enter the container's network namespace");
    }
    assertThat(pidLaunches).isEmpty();
  }

  @Test
  void otherTargetsAreNotServedHere() {
    AgentRequest pid = new AgentRequest(new TargetSpec.Pid(1), request.socketPath(), "t", request.logFile(), false);
    assertThatThrownBy(() -> launcher(true, true, LocalContainersTest.PODMAN).launch(pid))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_SUPPORTED_HERE));
  }

  @Test
  void hardOpenFilesLimitIsReadFromProcLimits() {
    String limits = "Limit                     Soft Limit           Hard Limit           Units     \n"
        + "Max processes             96369                96369                processes \n"
        + "Max open files            1024                 20000                files     \n";
    assertThat(ContainerAgentLauncher.hardNofile(limits)).isEqualTo(20000);
    assertThat(ContainerAgentLauncher.hardNofile("Max open files            unlimited            unlimited            files\n"))
        .isEqualTo(-1);
  }
}
