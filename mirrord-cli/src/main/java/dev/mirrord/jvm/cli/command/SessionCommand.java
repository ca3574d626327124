package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.exec.EnvFormat;
import dev.mirrord.jvm.cli.exec.ExecSession;
import dev.mirrord.jvm.cli.exec.IdeSession;
import dev.mirrord.jvm.cli.option.SessionOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mirrord session [options] --env-file FILE}: a session without a command. The agent and
 * the session proxy run until Ctrl-C; JVMs started elsewhere (an IDE run configuration, another
 * terminal) join it with the environment it writes: {@code JAVA_TOOL_OPTIONS} with the layer, and
 * the target's variables.
 */
@Command(
    name = "session",
    mixinStandardHelpOptions = true,
    versionProvider = dev.mirrord.jvm.cli.VersionInfo.class,
    description = {
      "Start a session without a command and keep it up until Ctrl-C: every JVM started with the",
      "environment it writes (JAVA_TOOL_OPTIONS with the mirrord layer, the target's variables) joins it,",
      "several at once or one after another. For IDE run configurations (IntelliJ's EnvFile, VS Code's envFile).",
      "Example: mirrord session --target pid/4242 --steal --env-file .mirrord/session.env",
      "         mirrord session --target pod/web -n shop --print-env shell"
    })
public final class SessionCommand implements Callable<Integer> {

  @ParentCommand MirrordCommand parent;

  @Spec CommandSpec spec;

  /** Added as a mixin by {@link #commandLine}. */
  private final SessionOptions options = new SessionOptions();

  @Option(
      names = "--env-file",
      paramLabel = "FILE",
      converter = dev.mirrord.jvm.picocli.OptionSpecs.PathConverter.class,
      description =
          "Write the environment as a dotenv file (NAME=value lines) for IDE run configurations. It"
              + " stays when the session ends: a JVM started later runs without mirrord, with one warning.")
  Path envFile;

  @Option(
      names = "--print-env",
      paramLabel = "FORMAT",
      description = "Print the environment on stdout: dotenv, shell (export lines) or json. Default: dotenv"
          + " when no --env-file is given.")
  String printEnv;

  /**
   * {@code session}'s command line: its own options from its annotations, the session's options as
   * a mixin built by hand (shared with {@code exec}, see {@link SessionOptions#mixin}).
   */
  public static CommandLine commandLine() {
    SessionCommand session = new SessionCommand();
    CommandLine cl = new CommandLine(session);
    cl.getCommandSpec().addMixin("options", session.options.mixin());
    return cl;
  }

  @Override
  public Integer call() throws Exception {
    options.bind();
    EnvFormat format = null;
    if (printEnv != null) {
      format = EnvFormat.parse(printEnv);
      if (format == null) {
        throw new MirrordException(
            ExitCode.USAGE,
            "bad value for --print-env: '" + printEnv + "' (expected dotenv, shell or json); fix the value");
      }
    } else if (envFile == null) {
      format = EnvFormat.DOTENV;
    }
    CliEnvironment environment = parent.environment();
    ExecSession.Params params =
        SessionSetup.prepare(options, environment, spec.commandLine().getErr(), List.of());
    return ExecSession.run(
        params,
        IdeSession.workload(
            params, envFile, format, spec.commandLine().getOut()));
  }
}
