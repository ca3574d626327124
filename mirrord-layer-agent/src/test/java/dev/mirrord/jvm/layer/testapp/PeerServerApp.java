package dev.mirrord.jvm.layer.testapp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server that prints, for every connection it accepts, the peer the app sees and how long asking
 * for it took: {@code peer N=<address> micros=<µs>}. {@code args}: the accept path ({@code socket}
 * = ServerSocket, {@code channel} = ServerSocketChannel, {@code netty} = the app's own Netty NIO,
 * {@code epoll} = its Netty native epoll), the address to listen on, the port. Prints {@code
 * ready=true} once listening; runs until killed.
 */
public final class PeerServerApp {
  private PeerServerApp() {}

  private static final AtomicInteger CONNECTIONS = new AtomicInteger();

  private static void report(java.util.function.Supplier<SocketAddress> peer) {
    long t0 = System.nanoTime();
    SocketAddress a = peer.get();
    long micros = (System.nanoTime() - t0) / 1000;
    System.out.println("peer " + CONNECTIONS.incrementAndGet() + "=" + a + " micros=" + micros);
  }

  @io.netty.channel.ChannelHandler.Sharable
  private static final class Reporter extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      report(ctx.channel()::remoteAddress);
      ctx.close();
    }
  }

  public static void main(String[] args) throws Exception {
    String kind = args[0];
    InetSocketAddress listen = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
    switch (kind) {
      case "socket" -> {
        try (ServerSocket ss = new ServerSocket()) {
          ss.bind(listen);
          System.out.println("ready=true");
          while (true) {
            try (Socket s = ss.accept()) {
              report(s::getRemoteSocketAddress);
            }
          }
        }
      }
      case "channel" -> {
        try (ServerSocketChannel ssc = ServerSocketChannel.open()) {
          ssc.bind(listen);
          System.out.println("ready=true");
          while (true) {
            try (SocketChannel c = ssc.accept()) {
              report(() -> {
                try {
                  return c.getRemoteAddress();
                } catch (java.io.IOException e) {
                  return null;
                }
              });
            }
          }
        }
      }
      case "netty", "epoll" -> {
        boolean epoll = kind.equals("epoll");
        // By name: this class compiles against the build's Netty but runs on the app's 4.1 (whose
        // group classes have other superclasses, which the verifier would look for).
        EventLoopGroup group = (EventLoopGroup) Class.forName(
                epoll ? "io.netty.channel.epoll.EpollEventLoopGroup" : "io.netty.channel.nio.NioEventLoopGroup")
            .getConstructor(int.class).newInstance(1);
        Class<? extends ServerChannel> type =
            epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ChannelInboundHandlerAdapter reporter = new Reporter();
        Channel server =
            new ServerBootstrap()
                .group(group)
                .channel(type)
                .childHandler(reporter)
                .bind(listen)
                .sync()
                .channel();
        System.out.println("ready=true");
        server.closeFuture().sync();
      }
      default -> throw new IllegalArgumentException(kind);
    }
  }
}
