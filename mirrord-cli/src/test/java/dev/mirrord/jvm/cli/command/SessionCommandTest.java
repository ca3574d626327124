package dev.mirrord.jvm.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code mirrord session}'s bad input: one line and an exit code, nothing started. */
class SessionCommandTest {

  @TempDir Path tmp;

  CliEnvironment env() throws IOException {
    Path layerJar = Files.writeString(tmp.resolve("dummy-layer.jar"), "x");
    return CliEnvironment.system()
        .withEnv(Map.of("PATH", System.getenv("PATH"), "MIRRORD_LAYER_JAR", layerJar.toString(),
            "MIRRORD_LOG_FILE", tmp.resolve("cli.log").toString()))
        .withSystemProperties(Map.of())
        .withTmpDir(tmp)
        .withForwardSignals(false);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "-t pid/1 --print-env yaml | bad value for --print-env: 'yaml' (expected dotenv, shell or json); fix the value",
        "--print-env json | no target given; pass --target pid/N",
        "-t pid/1 java | unexpected argument 'java'; mirrord session runs no command; start the app with the environment it writes",
        "-t pid/1 --skip-jvms | missing required parameter for option '--skip-jvms'",
      })
  void badInputIsOneLineAndExitCode2(String args, String message) throws IOException {
    CliRun r = CliRun.run(env(), prepend("session", args.split(" ")));

    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.errLines().get(0)).startsWith("mirrord: error: " + message);
    assertThat(r.out()).isEmpty();
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("mirrord-") && !n.endsWith(".log"));
    }
  }

  @Test
  void helpNamesTheEnvOptionsAndSharesExecsFooter() throws IOException {
    CliRun session = CliRun.run(env(), "session", "--help");
    CliRun exec = CliRun.run(env(), "exec", "--help");

    assertThat(session.code()).isZero();
    assertThat(session.out()).contains("--env-file=FILE", "--print-env=FORMAT", "--skip-jvms=GLOB", "--no-skip-build-tools", "--tcp-steal");
    String footer = exec.out().substring(exec.out().indexOf("Config levels:"));
    assertThat(footer).contains("MIRRORD_SKIP_JVMS", "Build tools:");
    assertThat(session.out()).endsWith(footer);
  }

  private static String[] prepend(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

}
