package dev.mirrord.jvm.protocol;

import java.util.Objects;

/** Session family: handshake, keep-alive, agent log lines. */
public final class Session {
  private Session() {}

  /**
   * First message of every connection, from the client. {@code token} authenticates the client to
   * the CLI (layer connections) or to the agent; {@code peer} names the client for logs, e.g.
   * {@code "layer pid=1234"} or {@code "cli 0.1.0"}.
   */
  public record Hello(ProtocolVersion version, String token, String peer) implements ClientMessage {
    public Hello {
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(peer, "peer");
    }

    @Override
    public String toString() {
      return "Hello[version=" + version + ", token=<redacted>, peer=" + peer + "]";
    }
  }

  /** The handshake succeeded; both sides now speak {@code negotiated}. */
  public record HelloOk(ProtocolVersion negotiated, String agentVersion) implements AgentMessage {}

  /** The handshake failed; the connection closes after this message. */
  public record HelloRejected(ProtocolVersion agentVersion, String reason) implements AgentMessage {}

  public record Ping(long nonce) implements ClientMessage {}

  public record Pong(long nonce) implements AgentMessage {}

  /** A line the agent wants the user to see (warnings about the target, clean-up notes). */
  public record AgentLog(Level level, String message) implements AgentMessage {
    public enum Level {
      INFO(1),
      WARN(2),
      ERROR(3);

      public final int code;

      Level(int code) {
        this.code = code;
      }

      public static Level ofCode(int code) {
        for (Level l : values()) {
          if (l.code == code) {
            return l;
          }
        }
        throw new IllegalArgumentException("unknown log level code " + code);
      }
    }
  }
}
