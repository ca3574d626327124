package dev.mirrord.jvm.podagent.session;

/** Told when a client authenticates and when a connection ends; called on event-loop threads. */
public interface SessionListener {
  SessionListener NONE = new SessionListener() {};

  /** {@code session} passed the handshake. */
  default void onAuthenticated(ClientSession session) {}

  /** {@code session}'s connection closed, whether or not it had authenticated. */
  default void onClosed(ClientSession session) {}
}
