package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.jvm.AgentJvmOptions;
import dev.mirrord.jvm.protocol.jvm.NettyFirstBuffer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The agent's JVM options file, as this JDK takes it: the flags it sets are in effect. The file
 * has {@code -XX:+IgnoreUnrecognizedVMOptions} (a later JDK without one of its diagnostic flags must
 * still start the agent), so a misspelt flag would not stop the JVM: only the flags' final values
 * and origins show it, and every {@code -XX} option of the file is checked that way.
 */
class AgentJvmOptionsTest {

  @Test
  void thisJdkStartsWithTheOptionsAndTheAotProfilesAreNotReplayed() throws IOException, InterruptedException {
    String version = runWithTheOptions("-version");
    assertThat(version.lines())
        .as("nothing but the version: no warning about an option")
        .isNotEmpty()
        .allMatch(l -> l.startsWith("openjdk version") || l.startsWith("OpenJDK") || l.startsWith("java version")
            || l.startsWith("Java(TM)") || l.startsWith("Java HotSpot"));

    String table = runWithTheOptions("-XX:+PrintFlagsFinal", "-version");
    // set by the file (without an AOT cache both are off anyway: only the origin shows the file's line took)
    assertThat(flag(table, "AOTReplayTraining")).isEqualTo("false {command line}");
    assertThat(flag(table, "AOTRecordTraining")).isEqualTo("false {command line}");
    assertThat(flag(table, "UseSerialGC")).isEqualTo("true {command line}");
    assertThat(flag(table, "MaxHeapSize")).isEqualTo((48L << 20) + " {command line}");
    // the JIT's thresholds x4: the start's run-once code is not compiled (docs/PERFORMANCE.md, "JIT thresholds")
    assertThat(flag(table, "CompileThresholdScaling")).isEqualTo("4.000000 {command line}");
    // ... but the relays' code keeps the default ones (x4 x 0.25); "quiet" keeps the commands off stdout (the
    // -version run above printed nothing else), which is the agent's READY line's
    for (String pkg : List.of("io\\.netty", "dev\\.mirrord", "sun\\.nio\\.ch")) {
      assertThat(table).containsPattern("CompileCommand\\s+\\+= CompileThresholdScaling," + pkg + "\\.\\*::\\*,0\\.25\\s");
    }
    // IgnoreUnrecognizedVMOptions would hide a misspelt -XX option: every one of the file must have taken
    for (String option : AgentJvmOptions.fromClassPath()) {
      if (option.startsWith("-XX:") && !option.startsWith("-XX:CompileCommand=")) { // a list: checked above
        String name = option.substring(4).replaceFirst("^[+-]", "").replaceFirst("=.*", "");
        assertThat(flag(table, name)).as(option).endsWith(" {command line}");
      }
    }
  }

  /** Netty's first buffer, with the file's options, loads no JFR event library ({@link NettyFirstBuffer}). */
  @Test
  void nettysFirstBufferDoesNotLoadJfrsEventLibrary() throws IOException, InterruptedException {
    assertThat(NettyFirstBuffer.jfrLibraryLoaded(AgentJvmOptions.fromClassPath())).isEmpty();
  }

  /** This JDK's {@code java} with the options file and {@code args}: its output; it must exit with 0. */
  private static String runWithTheOptions(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(AgentJvmOptions.fromClassPath());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s", cmd).isZero();
    return out;
  }

  /**
   * A flag's value and whether the command line set it, from {@code -XX:+PrintFlagsFinal}'s table
   * ({@code type name = value {kind} {origin, …}}): {@code "value {command line}"} or {@code "value"}.
   */
  private static String flag(String table, String name) {
    return table
        .lines()
        .map(String::strip)
        .map(l -> l.split("\\s+"))
        .filter(f -> f.length >= 4 && f[1].equals(name) && f[2].equals("="))
        .map(f -> f[3] + (String.join(" ", f).contains("{command line") ? " {command line}" : ""))
        .findFirst()
        .orElse("<absent>");
  }
}
