package dev.mirrord.jvm.e2e.container;

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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The CLI's side of the protocol over TCP, one request at a time: what the Kubernetes path's port-forward carries. */
final class AgentClient implements AutoCloseable {
  private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final BlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
  private final Channel channel;

  AgentClient(InetSocketAddress address) throws InterruptedException {
    channel = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ProtocolPipeline.install(ch.pipeline(), Side.CLIENT, new SimpleChannelInboundHandler<AgentMessage>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, AgentMessage msg) {
                received.add(msg);
              }
            });
          }
        })
        .connect(address).sync().channel();
  }

  /** Sends {@code request} and returns the next message of type {@code answer} (others are skipped). */
  <T extends AgentMessage> T ask(ClientMessage request, Class<T> answer, Duration timeout) throws InterruptedException {
    channel.writeAndFlush(request).sync();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      AgentMessage m = received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null) {
        throw new AssertionError("no " + answer.getSimpleName() + " within " + timeout.toSeconds() + " s");
      }
      if (answer.isInstance(m)) {
        return answer.cast(m);
      }
    }
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
