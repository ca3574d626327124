package dev.mirrord.jvm.e2e.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
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
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code WebSocketEchoApp PORT NAME [MAX_SECONDS]}: a Netty WebSocket server on {@code /ws} that answers every text
 * message {@code NAME: MESSAGE}; any other request gets {@code hello from NAME: METHOD PATH}. Needs Netty on the
 * classpath (like {@link NettyShaHttpApp}). Prints {@link #READY_PREFIX}PORT.
 */
public final class WebSocketEchoApp {
  public static final String READY_PREFIX = "ws-echo.listening ";

  private WebSocketEchoApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 600;
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                new WebSocketServerProtocolHandler("/ws"),
                new SimpleChannelInboundHandler<Object>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof TextWebSocketFrame text) {
                      ctx.writeAndFlush(new TextWebSocketFrame(name + ": " + text.text()));
                    } else if (msg instanceof FullHttpRequest req) {
                      byte[] body = ("hello from " + name + ": " + req.method() + " " + req.uri() + "\n")
                          .getBytes(StandardCharsets.UTF_8);
                      DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                          HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
                    }
                  }
                });
          }
        })
        .bind(new InetSocketAddress(port)).sync();
    out.println(READY_PREFIX + port);
    Thread.sleep(maxSeconds * 1000);
    System.exit(1);
  }
}
