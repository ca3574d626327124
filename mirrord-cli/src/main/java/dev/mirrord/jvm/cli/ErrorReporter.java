package dev.mirrord.jvm.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.OverwrittenOptionException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one mapper from failures to exit codes and to the one line the user sees: {@code mirrord:
 * error: <what>; <fix>}. Usage errors add {@code Try 'mirrord exec --help'.}; nothing else is
 * printed (no usage wall, no stack trace; unexpected exceptions go to the log file).
 */
public final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {
  private static final Logger logger = LoggerFactory.getLogger(ErrorReporter.class);

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    report(cmd.getErr(), cmd, ExitCode.USAGE, describe(ex));
    return ExitCode.USAGE.code;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    if (ex instanceof MirrordException m) {
      logger.debug("mirrord failed: {}", m.getMessage(), m);
      report(cmd.getErr(), cmd, m.exitCode(), m.getMessage());
      return m.exitCode().code;
    }
    if (ex instanceof ParameterException p) {
      return handleParseException(p, new String[0]);
    }
    logger.error("internal error", ex);
    report(
        cmd.getErr(),
        cmd,
        ExitCode.INTERNAL,
        "internal error ("
            + ex.getClass().getSimpleName()
            + (ex.getMessage() == null ? "" : ": " + oneLine(ex.getMessage()))
            + "); this is a bug in mirrord, please report it with the log file (-v shows more)");
    return ExitCode.INTERNAL.code;
  }

  /** Prints the error line (and the help hint for usage errors) and flushes. */
  static void report(PrintWriter err, CommandLine cmd, ExitCode code, String message) {
    err.println("mirrord: error: " + oneLine(message));
    if (code == ExitCode.USAGE) {
      err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
    }
    err.flush();
  }

  /** {@code <what>; <fix>} for picocli's parse errors. */
  static String describe(ParameterException ex) {
    boolean exec = "exec".equals(ex.getCommandLine().getCommandName());
    String commandHint =
        exec ? "the command to run goes after '--', e.g. mirrord exec -t pid/42 -- java -jar app.jar" : "";
    if (ex instanceof UnmatchedArgumentException u) {
      List<String> unmatched = u.getUnmatched();
      String first = unmatched.isEmpty() ? "?" : unmatched.get(0);
      List<String> suggestions = u.getSuggestions();
      String fix =
          !suggestions.isEmpty()
              ? "did you mean '" + suggestions.get(0) + "'?"
              : exec
                  ? commandHint
                  : "session".equals(ex.getCommandLine().getCommandName())
                      ? "mirrord session runs no command; start the app with the environment it writes,"
                          + " or run it with mirrord exec -t pid/42 -- java -jar app.jar"
                      : "the subcommands are exec, session, ls, completion and help";
      if (first.startsWith("-")) {
        return "unknown option '" + first + "'; " + fix;
      }
      return "unexpected argument '" + first + "'; " + fix;
    }
    if (ex instanceof OverwrittenOptionException o) {
      String name =
          o.getOverwritten() instanceof CommandLine.Model.OptionSpec opt
              ? opt.longestName()
              : String.valueOf(o.getOverwritten().paramLabel());
      return "option '" + name + "' was given more than once; give it once";
    }
    if (ex.getMessage() != null && ex.getMessage().contains("; ")) {
      return trim(ex.getMessage()); // already "<what>; <fix>"
    }
    if (ex instanceof MissingParameterException) {
      return trim(ex.getMessage()) + "; add it";
    }
    return trim(ex.getMessage()) + "; check the value";
  }

  private static String trim(String message) {
    String m = oneLine(message == null ? "bad arguments" : message).strip();
    if (m.endsWith(".")) {
      m = m.substring(0, m.length() - 1);
    }
    if (!m.isEmpty() && Character.isUpperCase(m.charAt(0)) && !m.startsWith("'")) {
      m = m.substring(0, 1).toLowerCase(Locale.ROOT) + m.substring(1);
    }
    return m;
  }

  private static String oneLine(String s) {
    return s.replace('\r', ' ').replace('\n', ' ');
  }
}
