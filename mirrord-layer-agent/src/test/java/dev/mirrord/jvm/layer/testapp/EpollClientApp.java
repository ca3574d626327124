package dev.mirrord.jvm.layer.testapp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An app that connects with its own Netty's native epoll transport (connect in native code): to
 * {@code args[0]} ({@code ip:port}), writes a line, prints {@code echo=<line>} and {@code
 * peer=<remoteAddress()>}, or {@code error=<exception>}.
 */
public final class EpollClientApp {
  private EpollClientApp() {}

  @SuppressWarnings("deprecation") // EpollEventLoopGroup is the 4.1 API the app uses
  public static void main(String[] args) throws Exception {
    System.out.println("epoll.available=" + Epoll.isAvailable());
    String[] hp = args[0].split(":");
    EventLoopGroup group = new EpollEventLoopGroup(1);
    CompletableFuture<String> echo = new CompletableFuture<>();
    try {
      Channel ch =
          new Bootstrap()
              .group(group)
              .channel(EpollSocketChannel.class)
              .handler(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  ByteBuf b = (ByteBuf) msg;
                  echo.complete(b.toString(StandardCharsets.US_ASCII).trim());
                  b.release();
                }
              })
              .connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])))
              .sync()
              .channel();
      ch.writeAndFlush(Unpooled.copiedBuffer("ping\n", StandardCharsets.US_ASCII));
      System.out.println("echo=" + echo.get(5, TimeUnit.SECONDS));
      System.out.println("peer=" + ch.remoteAddress());
      ch.close().sync();
    } catch (Exception e) {
      System.out.println("error=" + e);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
    System.out.println("done=true");
  }
}
