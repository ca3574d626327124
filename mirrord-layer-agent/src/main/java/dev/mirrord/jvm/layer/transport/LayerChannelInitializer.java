package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;

/** Sets up the layer's one channel to the CLI: the protocol pipeline (client side) + session. */
final class LayerChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final ChannelHandler session;

  LayerChannelInitializer(ChannelHandler session) {
    this.session = session;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ProtocolPipeline.install(ch.pipeline(), Side.CLIENT, session);
  }
}
