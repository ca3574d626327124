package dev.mirrord.jvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MirrordCommandTest {

  @TempDir Path tmp;

  CliEnvironment env() {
    return CliEnvironment.system().withEnv(Map.of()).withTmpDir(tmp).withForwardSignals(false);
  }

  @Test
  void versionNamesBuildAndProtocol() {
    CliRun r = CliRun.run(env(), "--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).isEqualTo("mirrord-jvm 0.1.0-SNAPSHOT (protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT + ")" + System.lineSeparator());
    assertThat(r.err()).isEmpty();
  }

  @Test
  void helpListsTheSubcommands() {
    CliRun r = CliRun.run(env(), "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("exec").contains("completion").contains("help");
  }

  @Test
  void execHelpShowsOptionsAndEnvironment() {
    CliRun r = CliRun.run(env(), "exec", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("--target", "--pod-name", "--tcp-steal", "--steal", "--no-outgoing", "--port-map")
        .contains("--env-include", "--config-file", "--log-file", "MIRRORD_TARGET");
  }

  /**
   * A command line that starts with {@code exec} gets exec's model alone (the others cost its
   * start); any other gets them all, which {@code help exec}, {@code completion} and the errors that
   * list the subcommands need. Its help is the same either way.
   */
  @Test
  void onlyExecIsBuiltForAnExecCommandLine() {
    assertThat(MirrordCommand.newCommandLine(env(), new String[] {"exec", "--help"}).getSubcommands())
        .containsOnlyKeys("exec");
    assertThat(MirrordCommand.newCommandLine(env(), new String[] {"help", "exec"}).getSubcommands())
        .containsOnlyKeys("exec", "session", "ls", "completion", "help", "aot-train");
    assertThat(MirrordCommand.newCommandLine(env(), new String[] {"--exec"}).getSubcommands())
        .hasSize(6);

    CliRun alone = CliRun.run(env(), "exec", "--help");
    java.io.StringWriter all = new java.io.StringWriter();
    picocli.CommandLine full = MirrordCommand.newCommandLine(env());
    full.setOut(new java.io.PrintWriter(all, true));
    assertThat(full.execute("exec", "--help")).isZero();
    assertThat(alone.out()).isEqualTo(all.toString());
  }

  /**
   * The help of the commands whose models are built by hand, as picocli printed it when it read
   * them from annotations (the files are that output): every option with its label and
   * description, the positional command, the footer.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"exec", "session", "mirrord"})
  void helpIsTheAnnotatedModelsHelp(String command) throws Exception {
    String expected;
    try (java.io.InputStream in = getClass().getResourceAsStream("/help/" + command + "-help.txt")) {
      expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    CliRun r = command.equals("mirrord") ? CliRun.run(env(), "--help") : CliRun.run(env(), command, "--help");

    assertThat(r.code()).isZero();
    assertThat(r.out()).isEqualTo(expected);
  }

  /**
   * Main turns picocli's reflective built-in converters off ({@code OptionSpecs.skipReflectiveConverters}): the
   * {@code Path} options keep converting through their own converter, and no option of the CLI has a type that
   * only those converters knew. Interpolation is off for the hand-built models (no variable in their texts; the
   * annotated subcommands need it for their standard help options, {@link #helpIsTheAnnotatedModelsHelp}).
   */
  @Test
  void optionsConvertWithoutPicocliReflectiveConvertersAndNothingIsInterpolated() {
    String before = System.getProperty("picocli.converters.excludes");
    System.setProperty("picocli.converters.excludes", dev.mirrord.jvm.picocli.OptionSpecs.CONVERTER_EXCLUDES);
    try {
      for (String[] line : new String[][] {{"exec", "--help"}, {"help"}}) {
        picocli.CommandLine cmd = MirrordCommand.newCommandLine(env(), line);
        assertThat(cmd.getCommandSpec().interpolateVariables()).isFalse();
        assertThat(cmd.getSubcommands().get("exec").getCommandSpec().interpolateVariables()).isFalse();
        // every option of every command converts its value: a type left without a converter fails here
        for (picocli.CommandLine sub : cmd.getSubcommands().values()) {
          for (picocli.CommandLine.Model.OptionSpec o : sub.getCommandSpec().options()) {
            Class<?> type = o.auxiliaryTypes()[0]; // the type itself, or a collection's element type
            String name = sub.getCommandName() + " " + o.longestName();
            if (type == Path.class) {
              assertThat(o.converters()).as(name).isNotEmpty();
            } else {
              assertThat(type.getName()).as(name).doesNotMatch(dev.mirrord.jvm.picocli.OptionSpecs.CONVERTER_EXCLUDES);
            }
          }
        }
      }
      String[] args = {"exec", "--target", "pid/1", "--log-file", "/tmp/a b/m.log", "--config-file", "rel/c.json", "--", "java"};
      picocli.CommandLine top = MirrordCommand.newCommandLine(env(), args);
      top.parseArgs(args);
      picocli.CommandLine exec = top.getSubcommands().get("exec");
      assertThat(exec.getCommandSpec().findOption("--log-file").<Path>getValue()).isEqualTo(Path.of("/tmp/a b/m.log"));
      assertThat(exec.getCommandSpec().findOption("--config-file").<Path>getValue()).isEqualTo(Path.of("rel/c.json"));
    } finally {
      if (before == null) {
        System.clearProperty("picocli.converters.excludes");
      } else {
        System.setProperty("picocli.converters.excludes", before);
      }
    }
  }

  @Test
  void helpSubcommandWorks() {
    CliRun r = CliRun.run(env(), "help", "exec");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: mirrord exec");
  }

  @Test
  void bashCompletionScriptIsPrinted() {
    CliRun r = CliRun.run(env(), "completion", "bash");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("complete -F").contains("--tcp-steal").contains("exec");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void otherShellsAreAUsageError() {
    CliRun r = CliRun.run(env(), "completion", "fish");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines())
        .containsExactly(
            "mirrord: error: no completion script for 'fish'; use 'mirrord completion bash'",
            "Try 'mirrord completion --help'.");
  }

  @Test
  void noSubcommandIsAUsageError() {
    CliRun r = CliRun.run(env());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines().get(0)).startsWith("mirrord: error: missing subcommand; e.g. mirrord exec");
    assertThat(r.errLines()).hasSize(2).last().isEqualTo("Try 'mirrord --help'.");
  }
}
