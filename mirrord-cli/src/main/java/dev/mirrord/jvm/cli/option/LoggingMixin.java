package dev.mirrord.jvm.cli.option;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where mirrord logs: a file always, stderr too with {@code -v}; never stdout. */
public final class LoggingMixin {

  @Option(
      names = "--log-file",
      paramLabel = "FILE",
      description = "Log file (default: <tmpdir>/mirrord-<session>.log).")
  Path logFile;

  @Option(
      names = {"-v", "--verbose"},
      description = "Debug logging, also to stderr.")
  boolean verbose;

  /** The flag's value as a string, or null. */
  public String logFile() {
    return logFile == null ? null : logFile.toString();
  }

  /** TRUE if -v was given, else null (the lower levels decide). */
  public Boolean verbose() {
    return verbose ? Boolean.TRUE : null;
  }
}
