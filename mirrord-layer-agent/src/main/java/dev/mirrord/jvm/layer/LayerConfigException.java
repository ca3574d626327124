package dev.mirrord.jvm.layer;

import java.nio.file.Path;

/** The session file is missing, unreadable or wrong; the message names the file and the key. */
public final class LayerConfigException extends Exception {
  private final transient Path logFile;
  private final boolean noSession;

  LayerConfigException(String message, Path logFile) {
    this(message, logFile, null, false);
  }

  LayerConfigException(String message, Path logFile, Throwable cause) {
    this(message, logFile, cause, false);
  }

  private LayerConfigException(String message, Path logFile, Throwable cause, boolean noSession) {
    super(message, cause);
    this.logFile = logFile;
    this.noSession = noSession;
  }

  /** The session file does not exist: the session has ended, or has not started. */
  static LayerConfigException noSession(String message) {
    return new LayerConfigException(message, null, null, true);
  }

  /** Whether the session file does not exist (rather than being unreadable or wrong). */
  public boolean noSession() {
    return noSession;
  }

  /** The session's log file if the session file named a usable one, else {@code null}. */
  public Path logFile() {
    return logFile;
  }
}
