package dev.mirrord.jvm.cli.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad input gives one error line (plus the help hint for usage errors) and an exit code. */
class ExecCommandTest {

  @TempDir Path tmp;
  Path layerJar;
  Path badConfig;

  @BeforeEach
  void setUp() throws IOException {
    layerJar = Files.writeString(tmp.resolve("dummy-layer.jar"), "not really a jar");
    badConfig = Files.writeString(tmp.resolve("mirrord.json"), "{\"incomng\": {\"mode\": \"steal\"}}");
  }

  CliEnvironment env(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv("PATH"));
    env.put("MIRRORD_LAYER_JAR", layerJar.toString());
    env.put("MIRRORD_LOG_FILE", tmp.resolve("cli.log").toString());
    env.putAll(extra);
    return CliEnvironment.system()
        .withEnv(env)
        .withSystemProperties(Map.of())
        .withTmpDir(tmp)
        .withForwardSignals(false);
  }

  static Stream<Arguments> usageErrors() {
    return Stream.of(
        Arguments.of("unknown flag", List.of("--bogus", "--", "java"), "unknown option '--bogus'; "),
        Arguments.of("misspelt flag", List.of("--tcp-stael", "-t", "pid/1", "--", "java"), "unknown option '--tcp-stael'; did you mean"),
        Arguments.of("command flags without --", List.of("-t", "pid/1", "java", "-jar", "app.jar"), "unknown option '-jar'; the command to run goes after '--'"),
        Arguments.of("missing --", List.of("-t", "pid/1", "java"), "missing '--' before the command 'java'; "),
        Arguments.of("words before --", List.of("-t", "pid/1", "java", "--", "-jar"), "unexpected argument 'java' before '--'; "),
        Arguments.of("missing command", List.of("-t", "pid/1"), "missing the command to run; add it after '--'"),
        Arguments.of("empty command", List.of("-t", "pid/1", "--"), "missing the command to run; add it after '--'"),
        Arguments.of("missing target", List.of("--", "java", "-jar", "app.jar"), "no target given; pass --target pid/N"),
        Arguments.of("bad pid", List.of("--target", "pid/abc", "--", "java"), "bad value for --target: 'pid/abc' is not a valid target: the pid must be a positive number"),
        Arguments.of("bad kind", List.of("--target", "node/x", "--", "java"), "bad value for --target: 'node/x' is not a valid target: expected pod/NAME"),
        Arguments.of("both pod-name and target", List.of("--pod-name", "web", "--target", "pid/1", "--", "java"), "--pod-name and --target both name a target; give only one of them"),
        Arguments.of("target twice", List.of("--target", "pid/1", "-t", "pid/2", "--", "java"), "option '--target' was given more than once; give it once"),
        Arguments.of("bad port map", List.of("-t", "pid/1", "-p", "8080", "--", "java"), "bad value for --port-map: '8080' is not a port mapping: expected LOCAL:REMOTE"),
        Arguments.of("port out of range", List.of("-t", "pid/1", "-p", "8080:70000", "--", "java"), "bad value for --port-map: "),
        Arguments.of("missing option value", List.of("-t", "pid/1", "-p"), "missing required parameter for option '--port-map'"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("usageErrors")
  void usageErrorsAreOneLinePlusHelpHint(String name, List<String> args, String message) {
    List<String> argv = new ArrayList<>(List.of("exec"));
    argv.addAll(args);

    CliRun r = CliRun.run(env(Map.of()), argv.toArray(String[]::new));

    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.errLines()).hasSize(2);
    assertThat(r.errLines().get(0)).startsWith("mirrord: error: " + message).contains("; ");
    assertThat(r.errLines().get(1)).isEqualTo("Try 'mirrord exec --help'.");
    assertNoLeaks(r);
  }

  static Stream<Arguments> otherErrors() {
    return Stream.of(
        Arguments.of(List.of("--target", "pod/web", "--", "java"), Map.of(), 6,
            "no Kubernetes configuration: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod; "),
        Arguments.of(List.of("--pod-name", "web", "--", "java"), Map.of(), 6,
            "no Kubernetes configuration: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod; "),
        Arguments.of(List.of("--target", "deployment/api/container/app", "--", "java"), Map.of(), 6,
            "no Kubernetes configuration: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod; "),
        Arguments.of(List.of("--", "java"), Map.of("MIRRORD_TARGET", "pod/web"), 6,
            "no Kubernetes configuration: KUBECONFIG is not set, "),
        Arguments.of(List.of("-t", "pid/1", "--", "java"), Map.of("MIRRORD_TCP_STEAL", "maybe"), 6,
            "bad value in environment variable MIRRORD_TCP_STEAL='maybe' (expected true or false); fix or unset it"),
        Arguments.of(List.of("--", "java"), Map.of("MIRRORD_TARGET", "pid/x"), 6,
            "bad value in environment variable MIRRORD_TARGET='pid/x'"),
        Arguments.of(List.of("-t", "pid/99999999", "--no-outgoing", "--no-remote-dns", "--", "java"), Map.of("MIRRORD_INCOMING_MODE", "off"), 3,
            "target pid 99999999 does not exist; pick a running process (ps -e)"),
        Arguments.of(List.of("-t", "pid/1", "--", "java"), Map.of("MIRRORD_LAYER_JAR", "/nonexistent/layer.jar"), 9,
            "the mirrord layer jar /nonexistent/layer.jar does not exist; "),
        Arguments.of(List.of("-t", "pid/1", "--", "java"), Map.of("MIRRORD_LAYER_JAR", ""), 9,
            "the mirrord layer jar is not configured; run mirrord through bin/mirrord or set MIRRORD_LAYER_JAR"));
  }

  @ParameterizedTest
  @MethodSource("otherErrors")
  void otherErrorsAreOneLineWithTheirExitCode(List<String> args, Map<String, String> env, int code, String message) {
    List<String> argv = new ArrayList<>(List.of("exec"));
    argv.addAll(args);

    CliRun r = CliRun.run(env(env), argv.toArray(String[]::new));

    assertThat(r.code()).as(r.err()).isEqualTo(code);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("mirrord: error: " + message);
    assertNoLeaks(r);
  }

  @Test
  void configFileErrorsNameFileAndKey() {
    CliRun r = CliRun.run(env(Map.of()), "exec", "-f", badConfig.toString(), "-t", "pid/1", "--", "java");

    assertThat(r.code()).isEqualTo(6);
    assertThat(r.errLines())
        .singleElement()
        .asString()
        .startsWith("mirrord: error: " + badConfig + ": unknown key 'incomng' (known: ")
        .contains("incoming");
    assertNoLeaks(r);
  }

  @Test
  void unwritableLogFileIsAConfigError() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("a-dir"));
    CliRun r =
        CliRun.run(env(Map.of("MIRRORD_INCOMING_MODE", "off")), "exec", "--log-file", dir.toString(), "-t", "pid/1", "--", "java");
    assertThat(r.code()).isEqualTo(6);
    assertThat(r.errLines()).singleElement().asString().startsWith("mirrord: error: cannot write the log file " + dir);
  }

  private static void assertNoLeaks(CliRun r) {
    assertThat(r.out()).as("stdout belongs to the app").isEmpty();
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("at dev.").doesNotContain("Usage:");
  }
}
