package dev.mirrord.jvm.layer.transport;

/**
 * The layer could not start a session with the CLI: no connection, no answer in time, or a {@code
 * HelloRejected}. The message is one line fit for the user's terminal.
 */
public final class HandshakeException extends Exception {
  public HandshakeException(String message) {
    super(message);
  }

  public HandshakeException(String message, Throwable cause) {
    super(message, cause);
  }
}
