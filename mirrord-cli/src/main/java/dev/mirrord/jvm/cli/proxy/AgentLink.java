package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import dev.mirrord.jvm.protocol.relay.TcpRelay;
import io.netty.channel.Channel;

/**
 * The CLI's connection to the agent as the incoming and outgoing proxies use it: set once the
 * handshake is done, cleared when it is lost; sends are dropped while there is none.
 */
final class AgentLink implements TcpRelay.Peer {
  private volatile Channel channel;

  void connected(Channel ch) {
    channel = ch;
  }

  void lost() {
    channel = null;
  }

  /** Whether the connection is up. */
  boolean active() {
    Channel ch = channel;
    return ch != null && ch.isActive();
  }

  /**
   * Sends {@code message}; flushed at once, or at the end of the read batch this thread is
   * dispatching ({@link ReadBatch}): an HTTP answer the gateways send as {@code Http.Response},
   * {@code Tcp.Data} and {@code Http.BodyEnd} out of one read of the app's socket leaves in one
   * write.
   */
  @Override
  public void send(Message message) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ReadBatch.writeAndFlush(ch, message);
    }
  }

  /** As {@link #send}, for {@code Tcp.Data(id, bytes)}; releases {@code bytes} if there is no connection. */
  @Override
  public void sendData(long id, io.netty.buffer.ByteBuf bytes) {
    Channel ch = channel;
    if (ch == null || !ch.isActive()) {
      bytes.release();
      return;
    }
    ReadBatch.writeAndFlush(ch, MessageCodec.encodeData(ch.alloc(), id, bytes));
  }

  /** Whether the connection can take more now (true while there is none: nothing waits on it). */
  @Override
  public boolean writable() {
    Channel ch = channel;
    return ch == null || ch.isWritable();
  }
}
