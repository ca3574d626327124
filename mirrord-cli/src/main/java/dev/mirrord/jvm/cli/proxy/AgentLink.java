package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Message;
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

  @Override
  public void send(Message message) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(message);
    }
  }

  @Override
  public void sendData(long id, io.netty.buffer.ByteBuf bytes) {
    dev.mirrord.jvm.protocol.codec.MessageCodec.writeData(channel, id, bytes);
  }

  /** Whether the connection can take more now (true while there is none: nothing waits on it). */
  @Override
  public boolean writable() {
    Channel ch = channel;
    return ch == null || ch.isWritable();
  }
}
