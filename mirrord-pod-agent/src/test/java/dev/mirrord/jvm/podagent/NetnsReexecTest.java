package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetnsReexecTest {

  @Test
  void containerIdBecomesTargetPidUnderNsenterAndEverythingElseIsKept() {
    List<String> cmd =
        NetnsReexec.command(
            4242,
            List.of("--container-id", "containerd://abc", "--listen", "tcp:127.0.0.1:0", "--no-stdin", "-v"),
            "/opt/java/bin/java",
            List.of("-XX:+UseSerialGC", "-Xmx32m"),
            "/opt/mirrord/mirrord-pod-agent.jar");

    assertThat(cmd)
        .containsExactly(
            "nsenter", "--net=/proc/4242/ns/net", "--setgid=71", "--",
            "/opt/java/bin/java", "-XX:+UseSerialGC", "-Xmx32m", "-cp", "/opt/mirrord/mirrord-pod-agent.jar", "dev.mirrord.jvm.podagent.PodAgentMain",
            "--target-pid", "4242",
            "--listen", "tcp:127.0.0.1:0", "--no-stdin", "-v");
  }

  @Test
  void theJvmAcceptsEveryOptionOfTheFile() throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>();
    cmd.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(dev.mirrord.jvm.protocol.jvm.AgentJvmOptions.fromClassPath());
    cmd.add("-version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).doesNotContainIgnoringCase("warning").doesNotContainIgnoringCase("unrecognized");
  }

  @Test
  void equalsFormIsRemovedToo() {
    assertThat(NetnsReexec.command(7, List.of("--container-id=docker://abc", "--idle-timeout", "10"), "java", List.of(), "cp"))
        .endsWith("--target-pid", "7", "--idle-timeout", "10")
        .doesNotContain("--container-id=docker://abc");
  }

  @Test
  void theJvmOptionsOfThisProcessGoToTheAgentThatServes() {
    assertThat(
            NetnsReexec.jvmOptions(
                List.of("@/opt/mirrord/jvm.options", "-Xss512k", "-Dmirrord.transport=nio", "-jar", "/opt/a.jar", "-v")))
        .containsExactly("@/opt/mirrord/jvm.options", "-Xss512k", "-Dmirrord.transport=nio");
    assertThat(NetnsReexec.jvmOptions(List.of("-XX:+UseSerialGC", "-cp", "x.jar", "Main"))).containsExactly("-XX:+UseSerialGC");
    assertThat(NetnsReexec.jvmOptions(List.of("dev.mirrord.jvm.podagent.PodAgentMain", "-v"))).isEmpty();

    assertThat(NetnsReexec.command(9, List.of("--container-id", "podman://abc"), "java", List.of("@/o/jvm.options"), "cp"))
        .containsSubsequence("java", "@/o/jvm.options", "-cp", "cp", "dev.mirrord.jvm.podagent.PodAgentMain", "--target-pid", "9");
  }
}
