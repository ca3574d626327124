package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.VersionInfo;
import dev.mirrord.jvm.cli.exec.ExecSession;
import dev.mirrord.jvm.cli.exec.JvmLauncher;
import dev.mirrord.jvm.cli.option.SessionOptions;
import dev.mirrord.jvm.picocli.OptionSpecs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code mirrord exec [options] -- <command> [args…]}: runs the command against the target. */
public final class ExecCommand implements Callable<Integer> {
  private final MirrordCommand parent;
  private final SessionOptions options = new SessionOptions();
  /** This command's model, set by {@link #model}. */
  private CommandSpec spec;
  private List<String> command = new ArrayList<>();

  private ExecCommand(MirrordCommand parent) {
    this.parent = parent;
  }

  /**
   * {@code exec}'s model, built by hand ({@link dev.mirrord.jvm.picocli.OptionSpecs} says why):
   * {@code mirrord exec} runs on every start of an app.
   */
  public static CommandSpec model(MirrordCommand parent) {
    ExecCommand exec = new ExecCommand(parent);
    CommandSpec spec =
        OptionSpecs.command(
            exec,
            "exec",
            new VersionInfo(),
            "Run <command> with its JVMs' network traffic and environment taken from the target.",
            "Example: mirrord exec --target pid/4242 -- java -jar app.jar",
            "         mirrord exec --target container/web --agent-container -- java -jar app.jar",
            "         mirrord exec --pod-name web -n shop -- java -jar app.jar");
    spec.interpolateVariables(false); // no variable in its texts (MirrordCommand.newCommandLine says why)
    spec.addMixin("options", exec.options.mixin());
    spec.addPositional(
        PositionalParamSpec.builder()
            .paramLabel("<command>")
            .arity("0..*")
            .type(List.class)
            .auxiliaryTypes(String.class)
            .description("The command to run, after '--', e.g. -- java -jar app.jar.")
            .build());
    exec.spec = spec;
    return spec;
  }

  @Override
  public Integer call() throws Exception {
    options.bind();
    List<String> given = spec.positionalParameters().get(0).getValue();
    command = given == null ? new ArrayList<>() : given;
    List<String> cmd = checkedCommand();
    List<String> warnings = new ArrayList<>();
    if (!JvmLauncher.looksLikeJvm(cmd)) {
      warnings.add(
          "'" + cmd.get(0) + "' does not look like a JVM; it will run without the mirrord layer unless it starts java itself");
    }
    CliEnvironment environment = parent.environment();
    ExecSession.Params params =
        SessionSetup.prepare(options, environment, spec.commandLine().getErr(), warnings);
    return ExecSession.run(params, ExecSession.command(cmd, environment, params.layerJar()));
  }

  /**
   * For {@code aot-train}: what {@link #call} does before the session starts (the options bound, the config merged,
   * the launcher chosen), without starting it.
   */
  ExecSession.Params prepare() {
    options.bind();
    return SessionSetup.prepare(options, parent.environment(), spec.commandLine().getErr(), List.of());
  }

  /**
   * The command after {@code --}.
   *
   * @throws MirrordException USAGE if it is missing, or not separated by {@code --}
   */
  private List<String> checkedCommand() {
    List<String> args = spec.commandLine().getParseResult().originalArgs();
    int dashes = args.indexOf("--");
    if (command.isEmpty()) {
      throw new MirrordException(
          ExitCode.USAGE,
          "missing the command to run; add it after '--', e.g. mirrord exec --target pid/42 -- java -jar app.jar");
    }
    if (dashes < 0) {
      throw new MirrordException(
          ExitCode.USAGE,
          "missing '--' before the command '"
              + command.get(0)
              + "'; write mirrord exec [options] -- "
              + String.join(" ", command));
    }
    int afterDashes = args.size() - dashes - 1;
    if (command.size() > afterDashes) {
      throw new MirrordException(
          ExitCode.USAGE,
          "unexpected argument '"
              + command.get(0)
              + "' before '--'; options go before '--', the command after it");
    }
    return List.copyOf(command);
  }
}
