package dev.mirrord.jvm.podagent.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetProcessTest {

  @Test
  void namesTheTargetsFilesUnderProc() {
    TargetProcess t = TargetProcess.of(1234);
    assertThat(t.pid()).isEqualTo(1234);
    assertThat(t.environ()).isEqualTo(Path.of("/proc/1234/environ"));
    assertThat(t.netns()).isEqualTo(Path.of("/proc/1234/ns/net"));
    assertThat(t.resolvConf()).isEqualTo(Path.of("/proc/1234/root/etc/resolv.conf"));
    assertThat(t.hosts()).isEqualTo(Path.of("/proc/1234/root/etc/hosts"));
    assertThat(t.hostnameFile()).isEqualTo(Path.of("/proc/1234/root/etc/hostname"));
  }

  @Test
  void existsOnlyForLivePids(@TempDir Path proc) throws IOException {
    assertThat(TargetProcess.of((int) ProcessHandle.current().pid()).exists()).isTrue();
    assertThat(TargetProcess.under(proc, 7).exists()).isFalse();
    Files.createDirectories(proc.resolve("7"));
    assertThat(TargetProcess.under(proc, 7).exists()).isTrue();
  }

  @Test
  void readsSysctlFilesWhole() throws IOException {
    // Files.readAllBytes returns only "3" for "32768\n" here: sysctl files ignore offsets > 0.
    String pidMax = new String(TargetProcess.readProcFile(Path.of("/proc/sys/kernel/pid_max")));
    assertThat(pidMax).matches("[0-9]{2,}\n");
  }

  @Test
  void rejectsNonPositivePids() {
    assertThatThrownBy(() -> TargetProcess.of(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TargetProcess.of(-5)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hostnameComesFromTheTargetsEtcHostname(@TempDir Path proc) throws IOException {
    Files.createDirectories(proc.resolve("9/root/etc"));
    Files.writeString(proc.resolve("9/root/etc/hostname"), "  my-pod-7d9f\nignored\n");
    assertThat(TargetProcess.under(proc, 9).hostname()).isEqualTo("my-pod-7d9f");
  }

  @Test
  void hostnameFallsBackToTheUtsName(@TempDir Path proc) throws IOException {
    String uts =
        new String(TargetProcess.readProcFile(Path.of("/proc/sys/kernel/hostname"))).strip();
    assertThat(TargetProcess.under(proc, 9).hostname()).isEqualTo(uts);
    Files.createDirectories(proc.resolve("9/root/etc"));
    Files.writeString(proc.resolve("9/root/etc/hostname"), "\n");
    assertThat(TargetProcess.under(proc, 9).hostname()).isEqualTo(uts);
  }
}
