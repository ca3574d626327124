package dev.mirrord.jvm.e2e.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * {@code NettyShaHttpApp PORT NAME [MAX_SECONDS]}: the {@link ShaHttpServerApp} contract (same answers, headers and
 * {@code sha-http.req} lines) on a Netty NIO server ({@code ServerBootstrap} + {@code HttpServerCodec} + {@code
 * HttpObjectAggregator}), the shape of most Netty-based services. Unlike the other apps it needs Netty on the
 * classpath (the e2e test classpath; the incoming tests' {@code IncomingLab.appCommand} builds it).
 */
public final class NettyShaHttpApp {
  private static final int MAX_BODY = 8 * 1024 * 1024;

  private NettyShaHttpApp() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      System.err.println("usage: NettyShaHttpApp PORT NAME [MAX_SECONDS]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 600;
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    Channel server = new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY), new Handler(name, out));
          }
        })
        .bind(new InetSocketAddress(port))
        .sync()
        .channel();
    out.println(ShaHttpServerApp.READY_PREFIX + port);
    if (!server.closeFuture().await(maxSeconds * 1000)) {
      out.println("sha-http.timeout");
      System.exit(1);
    }
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final String name;
    private final PrintStream out;

    Handler(String name, PrintStream out) {
      this.name = name;
      this.out = out;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      MessageDigest sha = ShaHttpServerApp.sha256();
      ByteBuf content = request.content();
      int length = content.readableBytes();
      sha.update(content.nioBuffer());
      String hex = HexFormat.of().formatHex(sha.digest());
      String method = request.method().name();
      String path = URI.create(request.uri()).getRawPath();
      InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
      out.println(ShaHttpServerApp.REQUEST_PREFIX + method + " " + path + " " + length + " " + hex + " "
          + peer.getAddress().getHostAddress());
      byte[] body = ("hello from " + name + ": " + method + " " + path + "\n").getBytes(StandardCharsets.UTF_8);
      FullHttpResponse response =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
      response.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
          .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
          .set("X-Body-Sha256", hex)
          .set("X-Body-Length", length);
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpUtil.setKeepAlive(response, keepAlive);
      if (keepAlive) {
        ctx.writeAndFlush(response);
      } else {
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
