package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.protocol.AgentMessage;
import io.netty.channel.EventLoop;

/**
 * The stealer's view of one client session: where its connections' messages go, and whether that
 * client can take more right now (back-pressure: when it can't, the stealer stops reading its
 * stolen sockets).
 */
public interface StealClient {
  /** Sends {@code message} to the client; called on Netty event loops, never blocks. */
  void send(AgentMessage message);

  /**
   * Sends {@code Tcp.Data(id, bytes)} to the client without copying the bytes where it can; takes
   * ownership of {@code bytes}.
   */
  default void sendData(long id, io.netty.buffer.ByteBuf bytes) {
    send(dev.mirrord.jvm.protocol.relay.TcpRelay.copiedData(id, bytes));
  }

  /** Whether the client's connection can take more data now. */
  boolean writable();

  /**
   * The event loop of the client's connection. The stealer serves this client's stolen sockets on
   * it, so relaying a chunk is a direct call both ways, never a hand-off between threads.
   */
  EventLoop eventLoop();

  /** A name for logs. */
  String name();
}
