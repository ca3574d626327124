package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.picocli.OptionSpecs;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/** Where mirrord logs: a file always, stderr too with {@code -v}; never stdout. */
public final class LoggingMixin {

  // The flags, set by bind() from the parsed model (see addTo()).
  Path logFile;
  boolean verbose;

  static void addTo(CommandSpec spec) {
    spec.addOption(
        OptionSpecs.option(
            "--log-file", "FILE", Path.class, "Log file (default: <tmpdir>/mirrord-<session>.log)."));
    spec.addOption(OptionSpecs.flag("Debug logging, also to stderr.", "-v", "--verbose"));
  }

  void bind(CommandSpec spec) {
    logFile = OptionSpecs.value(spec, "--log-file", null);
    verbose = OptionSpecs.value(spec, "--verbose", false);
  }

  /** The flag's value as a string, or null. */
  public String logFile() {
    return logFile == null ? null : logFile.toString();
  }

  /** TRUE if -v was given, else null (the lower levels decide). */
  public Boolean verbose() {
    return verbose ? Boolean.TRUE : null;
  }
}
