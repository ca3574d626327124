package dev.mirrord.jvm.cli.container;

import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.fail;
import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.ok;
import static dev.mirrord.jvm.cli.container.FakeRuntimeCommands.recorded;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalContainersTest {
  static final ContainerRuntime PODMAN = new ContainerRuntime("podman", Path.of("/usr/bin/podman"));
  static final ContainerRuntime DOCKER = new ContainerRuntime("docker", Path.of("/usr/bin/docker"));
  static final String DOCKER_DOWN =
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";

  @TempDir Path tmp;

  @Test
  void recordedPodmanInspectOfARunningContainerGivesItsIdAndFirstProcess() {
    var fake = new FakeRuntimeCommands().on("/usr/bin/podman", "container inspect i16web", ok(recorded("podman-4.3-inspect-running.json")));

    ContainerInfo c = new LocalContainers(List.of(PODMAN), fake).running("i16web");

    assertThat(c).isEqualTo(
        new ContainerInfo(PODMAN, "d6a83ac42b79cc591c49e2a97077db97ab819cc71c723a12fc40730f6292019e", "i16web", 18819, "running"));
    assertThat(c.containerId()).isEqualTo("podman://d6a83ac42b79cc591c49e2a97077db97ab819cc71c723a12fc40730f6292019e");
  }

  @Test
  void dockersLeadingSlashIsDroppedAndAPodmanWithoutTheNameIsSkipped() {
    var fake = new FakeRuntimeCommands().on("/usr/bin/docker", "container inspect shop-web-1", ok(recorded("docker-inspect-running.json")));

    ContainerInfo c = new LocalContainers(List.of(PODMAN, DOCKER), fake).running("shop-web-1");

    assertThat(c.name()).isEqualTo("shop-web-1");
    assertThat(c.pid()).isEqualTo(31337);
    assertThat(c.containerId()).startsWith("docker://7c1e3b0a9f2d");
    assertThat(fake.calls).extracting(cmd -> cmd.get(0)).containsExactly("/usr/bin/podman", "/usr/bin/docker");
  }

  @Test
  void aStoppedContainerIsOneLineNamingTheStartCommand() {
    var fake = new FakeRuntimeCommands().on("/usr/bin/podman", "container inspect i16stopped", ok(recorded("podman-4.3-inspect-created.json")));

    assertThatThrownBy(() -> new LocalContainers(List.of(PODMAN), fake).running("i16stopped"))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.TARGET_NOT_FOUND))
        .hasMessage("podman container i16stopped is created, not running; start it (podman start i16stopped) and try again");
  }

  @Test
  void anUnknownNameIsTargetNotFoundWithTheClosestNamesOfEveryRuntimeThatAnswered() {
    var fake = new FakeRuntimeCommands()
        .on("/usr/bin/podman", "ps -a --format {{.Names}}", ok("shop-web\nshop-db\nzeta\n"))
        .on("/usr/bin/docker", "container inspect shop-wbe", fail(1, DOCKER_DOWN));

    assertThatThrownBy(() -> new LocalContainers(List.of(PODMAN, DOCKER), fake).running("shop-wbe"))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.TARGET_NOT_FOUND))
        .hasMessage("no container 'shop-wbe' in podman (docker is not running: " + DOCKER_DOWN
            + "; start its daemon and try again); did you mean container/shop-db, container/shop-web?");
    assertThatThrownBy(() -> new LocalContainers(List.of(PODMAN), new FakeRuntimeCommands()
            .on("/usr/bin/podman", "ps -a --format {{.Names}}", ok(""))).running("x"))
        .hasMessage("no container 'x' in podman; list them with mirrord ls");
  }

  @Test
  void noRuntimeOrNoWorkingRuntimeIsAnInstallationProblemNamingTheFix() {
    assertThatThrownBy(() -> new LocalContainers(List.of(), new FakeRuntimeCommands()).running("web"))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.INSTALLATION))
        .hasMessage("--target container/web needs podman or docker, and neither is on PATH; install one (apt-get install"
            + " podman) or set MIRRORD_CONTAINER_RUNTIME=<path to podman or docker>");
    var down = new FakeRuntimeCommands().on("/usr/bin/docker", "container inspect web", fail(1, DOCKER_DOWN));
    assertThatThrownBy(() -> new LocalContainers(List.of(DOCKER), down).running("web"))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.INSTALLATION))
        .hasMessage("docker is not running: " + DOCKER_DOWN + "; start its daemon and try again");
  }

  @Test
  void aRefusedSocketIsNotPermitted() {
    var denied = new FakeRuntimeCommands().on("/usr/bin/docker", "container inspect web", fail(1,
        "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"));

    assertThatThrownBy(() -> new LocalContainers(List.of(DOCKER), denied).running("web"))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_PERMITTED))
        .hasMessageEndingWith("; run mirrord as root (or join the docker group)");
  }

  @Test
  void targetsListsRunningContainersPerRuntimeAndReportsRuntimesThatDoNotAnswer() {
    var fake = new FakeRuntimeCommands()
        .on("/usr/bin/podman", "ps --format {{.Names}}", ok("web\napi\n"))
        .on("/usr/bin/docker", "ps --format {{.Names}}", fail(1, DOCKER_DOWN));
    List<String> problems = new ArrayList<>();

    assertThat(new LocalContainers(List.of(PODMAN, DOCKER), fake).targets(problems))
        .containsExactly("container/api", "container/web");
    assertThat(problems).containsExactly("docker is not running: " + DOCKER_DOWN + "; start its daemon and try again");
  }

  @Test
  void runtimesComeFromPathOnlyPodmanFirstOrFromTheVariable() throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    for (String n : List.of("docker", "podman")) {
      Path exe = Files.writeString(bin.resolve(n), "#!/bin/sh\n");
      exe.toFile().setExecutable(true);
    }

    assertThat(ContainerRuntime.detect(Map.of("PATH", "/nonexistent:" + bin)))
        .containsExactly(new ContainerRuntime("podman", bin.resolve("podman")), new ContainerRuntime("docker", bin.resolve("docker")));
    assertThat(ContainerRuntime.detect(Map.of())).isEmpty();
    assertThat(ContainerRuntime.detect(Map.of("PATH", bin.toString(), "MIRRORD_CONTAINER_RUNTIME", "none"))).isEmpty();
    assertThat(ContainerRuntime.detect(Map.of("MIRRORD_CONTAINER_RUNTIME", bin.resolve("docker").toString())))
        .containsExactly(new ContainerRuntime("docker", bin.resolve("docker")));
    assertThatThrownBy(() -> ContainerRuntime.detect(Map.of("MIRRORD_CONTAINER_RUNTIME", "/nope/podman")))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.INSTALLATION))
        .hasMessage("MIRRORD_CONTAINER_RUNTIME=/nope/podman is not an executable podman or docker; fix or unset it");
  }
}
