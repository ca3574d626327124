package dev.mirrord.jvm.layer;

import java.nio.file.Path;

/** The session file is missing, unreadable or wrong; the message names the file and the key. */
public final class LayerConfigException extends Exception {
  private final transient Path logFile;

  LayerConfigException(String message, Path logFile) {
    super(message);
    this.logFile = logFile;
  }

  LayerConfigException(String message, Path logFile, Throwable cause) {
    super(message, cause);
    this.logFile = logFile;
  }

  /** The session's log file if the session file named a usable one, else {@code null}. */
  public Path logFile() {
    return logFile;
  }
}
