package dev.mirrord.jvm.cli;

import java.util.Objects;

/**
 * The one exception type for failures the user can act on. The message is one line, {@code "<what
 * went wrong>; <how to fix it>"}, printed as {@code mirrord: error: <message>}; {@link
 * ErrorReporter} turns the {@link ExitCode} into the process exit code. Never shown with a stack
 * trace.
 */
public final class MirrordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ExitCode exitCode;

  public MirrordException(ExitCode exitCode, String message) {
    super(Objects.requireNonNull(message, "message"));
    this.exitCode = Objects.requireNonNull(exitCode, "exitCode");
  }

  public MirrordException(ExitCode exitCode, String message, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause);
    this.exitCode = Objects.requireNonNull(exitCode, "exitCode");
  }

  public ExitCode exitCode() {
    return exitCode;
  }
}
