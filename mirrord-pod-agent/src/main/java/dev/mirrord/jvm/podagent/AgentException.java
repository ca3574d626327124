package dev.mirrord.jvm.podagent;

/**
 * A start-up failure the user can act on: {@link PodAgentCommand} prints its message as one line on
 * stderr (no stack trace) and exits with {@link #exitCode()}.
 */
public final class AgentException extends Exception {
  private final int exitCode;

  public AgentException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public AgentException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
