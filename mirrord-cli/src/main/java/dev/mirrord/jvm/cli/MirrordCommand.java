package dev.mirrord.jvm.cli;

import dev.mirrord.jvm.cli.command.AotTrainCommand;
import dev.mirrord.jvm.cli.command.CompletionCommand;
import dev.mirrord.jvm.cli.command.ExecCommand;
import dev.mirrord.jvm.cli.command.LsCommand;
import dev.mirrord.jvm.cli.command.SessionCommand;
import dev.mirrord.jvm.picocli.OptionSpecs;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code mirrord}: the top command; does nothing by itself but hold the subcommands. Its model and
 * {@code exec}'s are built by hand, the other subcommands' from their annotations ({@link
 * dev.mirrord.jvm.picocli.OptionSpecs} says why).
 */
public final class MirrordCommand implements Callable<Integer> {
  /** The subcommands after {@code exec} and {@code session}, in the order of the help's list. */
  static final List<Class<?>> ANNOTATED_SUBCOMMANDS =
      List.of(LsCommand.class, CompletionCommand.class, HelpCommand.class, AotTrainCommand.class);

  private static final String EXEC = "exec";

  /** This command's model, set by {@link #newCommandLine(CliEnvironment, String[])}. */
  private CommandSpec spec;

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
   * The command line for {@code args}: with only {@code exec} when {@code args} start with {@code
   * exec}, with every subcommand otherwise (a command line that starts with {@code exec} can only
   * run {@code exec}). The top command's and {@code exec}'s models are built by hand, in 34-46 ms
   * from the AOT cache on this 2-core machine; read from annotations, picocli took 145-160 ms for
   * the whole model and 115-125 ms for exec's alone (a proxy class per annotation type, then its
   * reflection, interpreted, on every start; see {@link dev.mirrord.jvm.picocli.OptionSpecs}).
   */
  public static CommandLine newCommandLine(CliEnvironment environment, String[] args) {
    MirrordCommand top = new MirrordCommand(environment);
    top.spec =
        OptionSpecs.command(
            top,
            "mirrord",
            new VersionInfo(),
            "Run a local JVM as if it were inside a target process or pod, for its network traffic.");
    // No text of the hand-built models (this one, exec's) has a variable, and picocli interpolated every option's
    // names each time it looked an argument up: ~10 ms of cold code per start. The annotated subcommands keep it
    // (their standard help options are named through variables).
    top.spec.interpolateVariables(false);
    CommandLine cmd = new CommandLine(top.spec);
    cmd.addSubcommand(new CommandLine(ExecCommand.model(top)));
    if (args.length == 0 || !args[0].equals(EXEC)) {
      cmd.addSubcommand(SessionCommand.commandLine());
      for (Class<?> sub : ANNOTATED_SUBCOMMANDS) {
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
