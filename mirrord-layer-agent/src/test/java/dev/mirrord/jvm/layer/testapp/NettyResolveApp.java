package dev.mirrord.jvm.layer.testapp;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code NettyResolveApp epoll|nio NAME…}: resolves each name with a Netty {@code DnsNameResolver}
 * built as Lettuce builds it — defaults for name servers, search domains and {@code ndots} (read
 * from {@code /etc/resolv.conf}), the transport's datagram and socket channels (TCP fallback on a
 * truncated answer) — and prints {@code NAME=<addresses, sorted>} or {@code NAME=!<exception>}.
 * Every lookup is bounded by 5 s. Compiled against the build's Netty 4.2; runs on the app's 4.1.
 */
public final class NettyResolveApp {
  private NettyResolveApp() {}

  @SuppressWarnings("deprecation") // the 4.1 API, which 4.2 keeps
  public static void main(String[] args) throws Exception {
    boolean epoll = args[0].equals("epoll");
    EventLoopGroup group = group(epoll);
    try {
      DnsNameResolver resolver =
          new DnsNameResolverBuilder(group.next())
              .channelType(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
              .socketChannelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
              .queryTimeoutMillis(2000)
              .build();
      System.out.println("transport=" + (epoll ? "epoll" : "nio"));
      for (String name : List.of(args).subList(1, args.length)) {
        String value;
        try {
          List<InetAddress> all = resolver.resolveAll(name).get(5, TimeUnit.SECONDS);
          value = all.stream().map(InetAddress::getHostAddress).sorted().collect(Collectors.joining(","));
        } catch (Exception e) {
          Throwable root = e;
          while (root.getCause() != null) {
            root = root.getCause();
          }
          value = "!" + root;
        }
        System.out.println(name + "=" + value);
      }
      resolver.close();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
    System.out.println("done=true");
  }

  /**
   * Two returns, not a ternary: compiled against Netty 4.2, a ternary's stack map names their
   * common superclass ({@code MultiThreadIoEventLoopGroup}), which Netty 4.1 does not have.
   */
  @SuppressWarnings("deprecation")
  private static EventLoopGroup group(boolean epoll) {
    if (epoll) {
      return new EpollEventLoopGroup(1);
    }
    return new NioEventLoopGroup(1);
  }
}
