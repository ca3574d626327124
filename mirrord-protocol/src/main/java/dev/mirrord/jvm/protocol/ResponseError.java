package dev.mirrord.jvm.protocol;

/**
 * Why the agent could not do what a client asked. Crosses the wire inside {@link RemoteResult};
 * Java exceptions never do. Each kind has a stable one-byte code in {@code WireTags}.
 */
public sealed interface ResponseError {

  /** A human-readable line, fit for the user's terminal. */
  String describe();

  /** Something the request named does not exist (a pid, a file, a connection). */
  record NotFound(String what) implements ResponseError {
    public String describe() {
      return "not found: " + what;
    }
  }

  /** Another session already steals this port in the target. */
  record PortAlreadyStolen(int port) implements ResponseError {
    public String describe() {
      return "port " + port + " is already stolen by another mirrord session on this target";
    }
  }

  /** An OS-level failure inside the target (errno as seen by the agent, 0 if unknown). */
  record RemoteIo(int errno, String message) implements ResponseError {
    public String describe() {
      return "I/O error in the target" + (errno != 0 ? " (errno " + errno + ")" : "") + ": " + message;
    }
  }

  /** The agent knows the request but this build does not implement it. */
  record NotImplemented(String feature) implements ResponseError {
    public String describe() {
      return feature + " is not implemented by this mirrord agent";
    }
  }

  /**
   * Since 1.5: the port is taken in a way this request cannot share (a whole-port steal and an
   * HTTP-filtered one); {@code message} names the other session.
   */
  record PortConflict(int port, String message) implements ResponseError {
    public String describe() {
      return message;
    }
  }

  /** The agent lacks the privilege it needs (e.g. NET_ADMIN for iptables). */
  record Forbidden(String message) implements ResponseError {
    public String describe() {
      return "forbidden in the target: " + message;
    }
  }
}
