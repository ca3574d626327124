package dev.mirrord.jvm.layer.testapp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;

/**
 * An app that serves with its own Netty's native epoll transport (bound in native code, not
 * through java.net): binds {@code args[0]}, prints what it bound, closes, exits 0.
 */
public final class EpollServerApp {
  private EpollServerApp() {}

  @SuppressWarnings("deprecation") // EpollEventLoopGroup is the 4.1 API the app uses
  public static void main(String[] args) throws Exception {
    System.out.println("epoll.available=" + Epoll.isAvailable());
    EventLoopGroup group = new EpollEventLoopGroup(1);
    try {
      Channel ch =
          new ServerBootstrap()
              .group(group)
              .channel(EpollServerSocketChannel.class)
              .childHandler(new ChannelInboundHandlerAdapter())
              .bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])))
              .sync()
              .channel();
      System.out.println("channel=" + ch.getClass().getName());
      System.out.println("bound=" + ((InetSocketAddress) ch.localAddress()).getPort());
      ch.close().sync();
    } finally {
      group.shutdownGracefully().sync();
    }
    System.out.println("done=true");
  }
}
