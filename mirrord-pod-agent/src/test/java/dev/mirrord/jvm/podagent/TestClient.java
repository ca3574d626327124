package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
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
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Netty client speaking the protocol from the CLI's side, for tests. */
final class TestClient implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;
  private final BlockingQueue<AgentMessage> inbox;

  private TestClient(EventLoopGroup group, Channel channel, BlockingQueue<AgentMessage> inbox) {
    this.group = group;
    this.channel = channel;
    this.inbox = inbox;
  }

  static TestClient connect(SocketAddress address) throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    BlockingQueue<AgentMessage> inbox = new LinkedBlockingQueue<>();
    try {
      Channel ch =
          new Bootstrap()
              .group(group)
              .channel(
                  address instanceof UnixDomainSocketAddress
                      ? NioDomainSocketChannel.class
                      : NioSocketChannel.class)
              .handler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ProtocolPipeline.install(
                          ch.pipeline(),
                          Side.CLIENT,
                          new SimpleChannelInboundHandler<AgentMessage>() {
                            @Override
                            protected void channelRead0(
                                ChannelHandlerContext ctx, AgentMessage msg) {
                              inbox.add(msg);
                            }

                            @Override
                            public void exceptionCaught(
                                ChannelHandlerContext ctx, Throwable cause) {
                              ctx.close();
                            }
                          });
                    }
                  })
              .connect(address)
              .sync()
              .channel();
      return new TestClient(group, ch, inbox);
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
  }

  void send(ClientMessage message) {
    channel.writeAndFlush(message).syncUninterruptibly();
  }

  <T extends AgentMessage> T receive(Class<T> type) throws InterruptedException {
    AgentMessage m = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(m).as("next message from the agent").isInstanceOf(type);
    return type.cast(m);
  }

  AgentMessage receiveAny() throws InterruptedException {
    AgentMessage m = inbox.poll(10, TimeUnit.SECONDS);
    assertThat(m).as("next message from the agent").isNotNull();
    return m;
  }

  Session.HelloOk handshake(String token) throws InterruptedException {
    send(new Session.Hello(ProtocolVersion.CURRENT, token, "test client"));
    return receive(Session.HelloOk.class);
  }

  long ping(long nonce) throws InterruptedException {
    send(new Session.Ping(nonce));
    return receive(Session.Pong.class).nonce();
  }

  boolean awaitClosed(Duration timeout) {
    return channel.closeFuture().awaitUninterruptibly(timeout.toMillis());
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).syncUninterruptibly();
  }
}
