package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A minimal layer: a real protocol client over TCP that queues what it receives. */
public final class TestLayer implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final BlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
  private final Channel channel;

  public TestLayer(int port) {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ProtocolPipeline.install(
                        ch.pipeline(),
                        Side.CLIENT,
                        new SimpleChannelInboundHandler<AgentMessage>() {
                          @Override
                          protected void channelRead0(ChannelHandlerContext ctx, AgentMessage msg) {
                            received.add(msg);
                          }
                        });
                  }
                })
            .connect("127.0.0.1", port)
            .syncUninterruptibly()
            .channel();
  }

  public void send(ClientMessage msg) {
    channel.writeAndFlush(msg).syncUninterruptibly();
  }

  @SuppressWarnings("unchecked")
  public <T extends AgentMessage> T next() throws InterruptedException {
    AgentMessage m = received.poll(10, TimeUnit.SECONDS);
    if (m == null) {
      throw new AssertionError("no message within 10 s");
    }
    return (T) m;
  }

  /** The next message if one arrives within {@code wait}, else null. */
  @SuppressWarnings("unchecked")
  public <T extends AgentMessage> T poll(java.time.Duration wait) throws InterruptedException {
    return (T) received.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  Channel channel() {
    return channel;
  }

  @Override
  public void close() {
    if (group.isShuttingDown()) {
      return;
    }
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
