package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The gateways' agent in tests: an {@link AgentLink} on a channel that records every message sent to the agent
 * ({@code Tcp.Data} frame bodies decoded as the agent would).
 */
final class RecordingAgent {
  final List<Message> received = new CopyOnWriteArrayList<>();
  final AgentLink link = new AgentLink();
  private final EmbeddedChannel channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf frame) { // a Tcp.Data frame body, as MessageCodec.encodeData makes it
        try {
          received.add(MessageCodec.decode(frame, Side.CLIENT));
        } finally {
          frame.release();
        }
      } else {
        received.add((Message) msg);
      }
      promise.setSuccess();
    }
  });

  RecordingAgent() {
    link.connected(channel);
  }

  void close() {
    channel.finishAndReleaseAll();
  }
}
