package dev.mirrord.jvm.cli;

import dev.mirrord.jvm.cli.command.AotTrainCommand;
import dev.mirrord.jvm.cli.command.CompletionCommand;
import dev.mirrord.jvm.cli.command.ExecCommand;
import dev.mirrord.jvm.cli.command.LsCommand;
import dev.mirrord.jvm.cli.command.SessionCommand;
import java.util.List;
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
    description = "Run a local JVM as if it were inside a target process or pod, for its network traffic.")
public final class MirrordCommand implements Callable<Integer> {
  /** The subcommands, in the order of the help's list. */
  static final List<Class<?>> SUBCOMMANDS =
      List.of(
          ExecCommand.class, SessionCommand.class, LsCommand.class, CompletionCommand.class,
          HelpCommand.class, AotTrainCommand.class);

  private static final String EXEC = "exec";

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
    return newCommandLine(environment, new String[0]);
  }

  /**
   * The command line for {@code args}: with only {@code exec}'s model when {@code args} start with
   * {@code exec}, with every subcommand's otherwise. picocli reads a command's annotations and
   * builds its model when the command is added, and that is interpreted code on every start (the
   * annotations' proxies cannot be in the AOT cache): the other subcommands' models cost {@code
   * mirrord exec} ~30 ms of its start (the whole model 145-160 ms, exec's alone 115-125 ms, from
   * the AOT cache on this 2-core machine) for nothing, since a command line that starts with {@code
   * exec} can only run {@code exec}.
   */
  public static CommandLine newCommandLine(CliEnvironment environment, String[] args) {
    CommandLine cmd = new CommandLine(new MirrordCommand(environment));
    if (args.length > 0 && args[0].equals(EXEC)) {
      cmd.addSubcommand(ExecCommand.class);
    } else {
      for (Class<?> sub : SUBCOMMANDS) {
        cmd.addSubcommand(sub);
      }
    }
    return configure(cmd);
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
