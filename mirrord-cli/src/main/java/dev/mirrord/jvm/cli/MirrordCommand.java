package dev.mirrord.jvm.cli;

import dev.mirrord.jvm.cli.command.AotTrainCommand;
import dev.mirrord.jvm.cli.command.CompletionCommand;
import dev.mirrord.jvm.cli.command.ExecCommand;
import dev.mirrord.jvm.cli.command.LsCommand;
import dev.mirrord.jvm.cli.command.SessionCommand;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mirrord}: the top command; does nothing by itself but hold the subcommands. */
@Command(
    name = "mirrord",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.class,
    description = "Run a local JVM as if it were inside a target process or pod, for its network traffic.",
    subcommands = {
      ExecCommand.class, SessionCommand.class, LsCommand.class, CompletionCommand.class, HelpCommand.class,
      AotTrainCommand.class
    })
public final class MirrordCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliEnvironment environment;

  public MirrordCommand() {
    this(CliEnvironment.system());
  }

  public MirrordCommand(CliEnvironment environment) {
    this.environment = Objects.requireNonNull(environment, "environment");
  }

  /** The outside world the subcommands use (env, temp dir, agent launchers). */
  public CliEnvironment environment() {
    return environment;
  }

  /** The command line with mirrord's error reporting; use this, not {@code new CommandLine}. */
  public static CommandLine newCommandLine(CliEnvironment environment) {
    return configure(new CommandLine(new MirrordCommand(environment)));
  }

  /** Installs {@link ErrorReporter} on a command line built around a {@link MirrordCommand}. */
  public static CommandLine configure(CommandLine cmd) {
    ErrorReporter reporter = new ErrorReporter();
    cmd.setParameterExceptionHandler(reporter);
    cmd.setExecutionExceptionHandler(reporter);
    return cmd;
  }

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "missing subcommand; e.g. mirrord exec --target pid/42 -- java -jar app.jar");
  }
}
