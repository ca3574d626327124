package dev.mirrord.jvm.podagent.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContainerPidFinderTest {
  static final String ID = "3f4e9c0a1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f";
  static final String OTHER = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  @TempDir Path proc;

  static String recorded(String name) throws IOException {
    try (InputStream in = ContainerPidFinderTest.class.getResourceAsStream("/cgroup/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void containerIdsOfTheThreeRuntimesParse() {
    assertThat(ContainerId.parse("containerd://" + ID)).isEqualTo(new ContainerId("containerd", ID));
    assertThat(ContainerId.parse("cri-o://" + ID)).isEqualTo(new ContainerId("cri-o", ID));
    assertThat(ContainerId.parse("docker://" + ID.toUpperCase())).isEqualTo(new ContainerId("docker", ID));
    assertThat(ContainerId.parse(ID)).isEqualTo(new ContainerId("unknown", ID));
    assertThat(ContainerId.parse("containerd://" + ID)).hasToString("containerd://" + ID);
  }

  @ParameterizedTest
  @ValueSource(strings = {"containerd://", "containerd://xyz", "://" + "ab12ab12ab12", "abc", "containerd://../../etc"})
  void malformedIdsAreRefused(String text) {
    assertThatThrownBy(() -> ContainerId.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "containerd-systemd-v2.txt",
        "containerd-cgroupfs-v2-k3s.txt",
        "containerd-cgroupfs-v1.txt",
        "crio-systemd-v2.txt",
        "docker-systemd-v2.txt",
        "docker-cgroupfs-v1.txt",
        "kind-nested-v2.txt",
        "podman-systemd-v2.txt",
        "podman-rootless-systemd-v2.txt",
        "podman-systemd-v2-seen-from-private-cgroupns.txt"
      })
  void everyRuntimeLayoutNamesTheContainer(String file) throws IOException {
    String cgroup = recorded(file);

    assertThat(ContainerPidFinder.matches(cgroup, ID)).isTrue();
    assertThat(ContainerPidFinder.matches(cgroup, OTHER)).isFalse();
    assertThat(ContainerPidFinder.matches(cgroup, ID.substring(0, 12))).isFalse(); // no prefix matches
  }

  @Test
  void crioMonitorIsNotTheContainer() throws IOException {
    assertThat(ContainerPidFinder.matches(recorded("crio-conmon-v2.txt"), ID)).isFalse();
  }

  @Test
  void podmansMonitorIsNotTheContainer() throws IOException {
    assertThat(ContainerPidFinder.matches(recorded("podman-conmon-systemd-v2.txt"), ID)).isFalse();
  }

  @Test
  void recordedPodmanContainerIsFoundByItsIdAndItsConmonIsNot() throws IOException {
    String container = recorded("podman-cgroupfs-v1-hybrid.txt");
    Matcher m = Pattern.compile("libpod-([0-9a-f]{64})").matcher(container);
    assertThat(m.find()).isTrue();
    String id = m.group(1);
    fakeProcess(900, 1, recorded("podman-conmon-cgroupfs-v1-hybrid.txt")); // conmon: the container's parent
    fakeProcess(901, 900, container); // the container's first process
    fakeProcess(902, 901, container); // its child
    fakeProcess(950, 1, recorded("host-shell.txt"));

    ContainerPidFinder finder = new ContainerPidFinder(proc);

    assertThat(ContainerPidFinder.matches(container, id)).isTrue();
    assertThat(container.lines()).hasSize(10).allMatch(l -> l.endsWith("/libpod_parent/libpod-" + id));
    assertThat(finder.pidsOf(ContainerId.parse("podman://" + id))).containsExactly(901, 902);
    assertThat(finder.find(ContainerId.parse("podman://" + id))).contains(901);
    assertThat(finder.find(ContainerId.parse("podman://" + id.substring(0, 12)))).isEmpty(); // IDs match whole
  }

  @Test
  void hostProcessesOutsideContainersMatchNothing() throws IOException {
    for (String f : new String[] {"host-shell.txt", "host-init.txt"}) {
      assertThat(ContainerPidFinder.matches(recorded(f), ID)).as(f).isFalse();
    }
  }

  @Test
  void recordedHostLineWithAHexCgroupNameMatchesThatName() throws IOException {
    // host-shell.txt: "4:memory:/process_api/10a96a9ac14672fafc2bb9ba1fdaf542" (cgroup v1 hybrid)
    assertThat(ContainerPidFinder.matches(recorded("host-shell.txt"), "10a96a9ac14672fafc2bb9ba1fdaf542")).isTrue();
  }

  @Test
  void findPicksARootOfTheContainersProcessTreeAndNeverAnotherContainer() throws IOException {
    fakeProcess(100, 1, recorded("host-init.txt"));
    fakeProcess(4242, 4000, recorded("containerd-systemd-v2.txt")); // container init (parent: shim)
    fakeProcess(4300, 4242, recorded("containerd-systemd-v2.txt")); // its child
    fakeProcess(4100, 4000, recorded("containerd-systemd-v2.txt")); // lower pid, but parent 4000 too…
    fakeProcess(5000, 4999, recorded("containerd-systemd-v2.txt").replace(ID, OTHER));
    Files.createDirectories(proc.resolve("self"));

    ContainerPidFinder finder = new ContainerPidFinder(proc);

    assertThat(finder.pidsOf(new ContainerId("containerd", ID))).containsExactly(4100, 4242, 4300);
    // …so both 4100 and 4242 are roots; the lowest wins
    assertThat(finder.find(new ContainerId("containerd", ID))).contains(4100);
    assertThat(finder.find(new ContainerId("containerd", OTHER))).contains(5000);
    assertThat(finder.find(new ContainerId("containerd", "ab".repeat(32)))).isEmpty();
  }

  @Test
  void childOfTheInitIsNeverChosen() throws IOException {
    fakeProcess(300, 250, recorded("crio-systemd-v2.txt"));
    fakeProcess(200, 300, recorded("crio-systemd-v2.txt"));
    fakeProcess(250, 1, recorded("crio-conmon-v2.txt"));

    assertThat(new ContainerPidFinder(proc).find(new ContainerId("cri-o", ID))).contains(300);
  }

  @Test
  void realProcOfThisHostIsScannedAndFindsThisProcessByItsOwnCgroupName() throws IOException {
    String own = Files.readString(Path.of("/proc/self/cgroup"));
    Matcher m = Pattern.compile("[/-]([0-9a-f]{12,64})(\\.scope)?(\\n|$)").matcher(own);
    assumeTrue(m.find(), "this process's cgroups have no hex-named component, nothing to look up: " + own.replace('\n', ' '));
    String id = m.group(1);
    long self = ProcessHandle.current().pid();

    var pids = new ContainerPidFinder(Path.of("/proc")).pidsOf(new ContainerId("unknown", id));

    assertThat(pids).contains((int) self);
  }

  @Test
  void realProcHasNoProcessOfAnUnknownContainer() {
    assertThat(new ContainerPidFinder(Path.of("/proc")).find(new ContainerId("containerd", OTHER))).isEmpty();
  }

  private void fakeProcess(int pid, int ppid, String cgroup) throws IOException {
    Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.writeString(dir.resolve("cgroup"), cgroup);
    Files.writeString(dir.resolve("status"), "Name:\tjava\nState:\tS (sleeping)\nPid:\t" + pid + "\nPPid:\t" + ppid + "\n");
  }
}
