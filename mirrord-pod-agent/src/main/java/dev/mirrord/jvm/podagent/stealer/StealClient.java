package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.protocol.AgentMessage;

/**
 * The stealer's view of one client session: where its connections' messages go, and whether that
 * client can take more right now (back-pressure: when it can't, the stealer stops reading its
 * stolen sockets).
 */
public interface StealClient {
  /** Sends {@code message} to the client; called on Netty event loops, never blocks. */
  void send(AgentMessage message);

  /** Whether the client's connection can take more data now. */
  boolean writable();

  /** A name for logs. */
  String name();
}
