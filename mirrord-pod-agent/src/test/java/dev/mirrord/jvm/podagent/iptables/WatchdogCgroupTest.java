package dev.mirrord.jvm.podagent.iptables;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.iptables.WatchdogCgroup.Hierarchy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchdogCgroupTest {

  static String recorded(String name) throws IOException {
    try (InputStream in = WatchdogCgroupTest.class.getResourceAsStream("/cgroup/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void everyHierarchyOfARecordedPodmanContainerIsMountedAsItIsNamed() throws IOException {
    assertThat(WatchdogCgroup.hierarchies(recorded("podman-cgroupfs-v1-hybrid.txt")))
        .containsExactly(
            new Hierarchy("cgroup", "none,name=systemd"),
            new Hierarchy("cgroup", "pids"),
            new Hierarchy("cgroup", "blkio"),
            new Hierarchy("cgroup", "freezer"),
            new Hierarchy("cgroup", "devices"),
            new Hierarchy("cgroup", "memory"),
            new Hierarchy("cgroup", "cpuset"),
            new Hierarchy("cgroup", "cpuacct"),
            new Hierarchy("cgroup", "cpu"),
            new Hierarchy("cgroup2", "rw"));
  }

  @Test
  void coMountedControllersStayTogetherAndRootCgroupsAreSkipped() throws IOException {
    assertThat(WatchdogCgroup.hierarchies("4:cpu,cpuacct:/docker/abc\n3:memory:/\n0::/system.slice/x.scope\n"))
        .containsExactly(new Hierarchy("cgroup", "cpu,cpuacct"), new Hierarchy("cgroup2", "rw"));
    // conmon's own lines (systemd and unified at the root) need nothing for those two
    assertThat(WatchdogCgroup.hierarchies(recorded("podman-conmon-cgroupfs-v1-hybrid.txt")))
        .hasSize(8)
        .doesNotContain(new Hierarchy("cgroup2", "rw"), new Hierarchy("cgroup", "none,name=systemd"));
    assertThat(WatchdogCgroup.hierarchies(recorded("host-init.txt")).size())
        .isLessThanOrEqualTo(recorded("host-init.txt").split("\n").length);
  }

  @Test
  void scriptMountsWritesThePidAndUnmountsEachHierarchyAndFailsIfAnyStepFails() {
    String script =
        WatchdogCgroup.script(
            List.of(new Hierarchy("cgroup", "pids"), new Hierarchy("cgroup2", "rw")),
            List.of(Path.of("/tmp/m/h0"), Path.of("/tmp/m/h1")),
            4242);

    assertThat(script)
        .isEqualTo(
            "failed=0\n"
                + "if mount -t cgroup -o pids cgroup /tmp/m/h0; then echo 4242 > /tmp/m/h0/cgroup.procs || failed=1;"
                + " umount /tmp/m/h0; else failed=1; fi\n"
                + "if mount -t cgroup2 -o rw cgroup /tmp/m/h1; then echo 4242 > /tmp/m/h1/cgroup.procs || failed=1;"
                + " umount /tmp/m/h1; else failed=1; fi\n"
                + "exit $failed\n");
  }
}
