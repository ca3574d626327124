package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The image's jlinked runtime ({@code image/jdk-modules.txt}) has every module the fat jar needs. */
class JdkModulesIT {

  @Test
  void jdepsOfTheFatJarNeedsNoModuleBeyondTheImagesList() throws Exception {
    Path jar = Path.of("target", "mirrord-pod-agent.jar");
    assertThat(jar).exists();
    Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
    Process p =
        new ProcessBuilder(
                jdeps.toString(), "--ignore-missing-deps", "--print-module-deps", "--multi-release", "25", jar.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> needed = Arrays.asList(out.lines().reduce((a, b) -> b).orElseThrow().split(","));

    assertThat(AgentImageFilesTest.entries("jdk-modules.txt")).containsAll(needed);
    assertThat(needed).contains("java.base");
  }
}
