package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI's replay of matched HTTP/1 requests: {@code Http.Request} + body from the "agent" (a recording channel)
 * becomes a request on the app connection of its client connection (a Netty HTTP/1 server on loopback), and the app's
 * answer comes back as {@code Http.Response} + {@code Tcp.Data} + {@code Http.BodyEnd}.
 */
class HttpGatewayTest {
  private static final long CONNECTION = 0x4000_0000_0000_0001L;

  private EventLoopGroup loops;
  private Channel app;
  private final AtomicInteger appConnections = new AtomicInteger();
  private final AtomicInteger appClosed = new AtomicInteger();
  private final List<String> appSaw = new CopyOnWriteArrayList<>();
  private final java.util.Set<String> closedOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final RecordingAgent agent = new RecordingAgent();
  private final List<Message> toAgent = agent.received;
  private HttpGateway gateway;

  @BeforeEach
  void start() throws Exception {
    loops = Transport.NIO.newGroup(1, new DefaultThreadFactory("test-http-gateway", true));
    app = new ServerBootstrap().group(loops).channel(Transport.NIO.serverSocketChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            appConnections.incrementAndGet();
            ch.closeFuture().addListener(f -> appClosed.incrementAndGet());
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024), new App());
          }
        }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    int appPort = ((InetSocketAddress) app.localAddress()).getPort();
    gateway = new HttpGateway(loops, port -> appPort, new AppDialer(RelayAddresses.pick()), agent.link, port -> null);
  }

  @AfterEach
  void stop() {
    app.close().syncUninterruptibly();
    loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    agent.close();
  }

  private static Http.Request request(long stream, String method, String path, boolean end) {
    return new Http.Request(stream, CONNECTION, 8080, "198.18.0.9", 40000, Http.HTTP_1_1, method, path,
        end ? List.of(new Http.Header("Host", "pod:8080"), new Http.Header("X-Dev", "alice"))
            : List.of(new Http.Header("Host", "pod:8080"), new Http.Header("X-Dev", "alice"),
                new Http.Header("Transfer-Encoding", "chunked")), end);
  }

  /** The answer's body the agent got for {@code stream}, once its {@code BodyEnd} came. */
  private String answered(long stream) {
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.stream()
        .anyMatch(m -> m instanceof Http.BodyEnd e && e.streamId() == stream));
    StringBuilder body = new StringBuilder();
    toAgent.stream().filter(m -> m instanceof Tcp.Data d && d.connectionId() == stream)
        .forEach(m -> body.append(new String(((Tcp.Data) m).bytes().toByteArray(), StandardCharsets.UTF_8)));
    assertThat(toAgent).anyMatch(m -> m instanceof Http.Response r && r.streamId() == stream && r.status() == 200);
    return body.toString();
  }

  @Test
  void requestsOfOneClientConnectionGoOneAfterAnotherOnOneAppConnection() {
    long a = 0x4000_0000_0000_0002L;
    long b = 0x4000_0000_0000_0003L;
    gateway.request(request(a, "GET", "/a", true));
    gateway.request(request(b, "POST", "/b", false));
    gateway.fromAgent(new Tcp.Data(b, Payload.copyOf("hel".getBytes(StandardCharsets.UTF_8))));
    gateway.fromAgent(new Tcp.Data(b, Payload.copyOf("lo".getBytes(StandardCharsets.UTF_8))));
    gateway.fromAgent(new Http.BodyEnd(b, List.of()));
    assertThat(answered(a)).isEqualTo("app: GET /a x-dev=alice ");
    assertThat(answered(b)).isEqualTo("app: POST /b x-dev=alice hello");
    assertThat(appSaw).containsExactly("GET /a", "POST /b");
    assertThat(appConnections.get()).isEqualTo(1);
  }

  @Test
  void anAppOnIpv6LoopbackOnlyGetsMatchedRequestsFromTheSessionsIpv6SourcePorts() throws Exception {
    List<java.net.SocketAddress> peers = new CopyOnWriteArrayList<>();
    Channel app6 = new ServerBootstrap().group(loops).channel(Transport.NIO.serverSocketChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            peers.add(ch.remoteAddress());
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024 * 1024), new App());
          }
        }).bind(new InetSocketAddress(InetAddress.getByName("::1"), 0)).sync().channel();
    try {
      int port6 = ((InetSocketAddress) app6.localAddress()).getPort();
      RelayAddresses relays = new RelayAddresses(InetAddress.getByName("127.0.0.1"), 24100, 24115);
      HttpGateway gateway6 = new HttpGateway(loops, port -> port6, new AppDialer(relays), agent.link, port -> null);
      long a = 0x4000_0000_0000_0020L;
      long b = 0x4000_0000_0000_0021L;
      gateway6.request(new Http.Request(a, CONNECTION + 5, 8080, "198.18.0.9", 40005, Http.HTTP_1_1, "GET", "/v6",
          List.of(new Http.Header("Host", "pod:8080")), true));
      assertThat(answered(a)).isEqualTo("app: GET /v6 x-dev=null ");
      // the next client connection's first try is [::1] at once: the dialer remembers where that port answers
      gateway6.request(new Http.Request(b, CONNECTION + 6, 8080, "198.18.0.9", 40006, Http.HTTP_1_1, "GET", "/v6b",
          List.of(new Http.Header("Host", "pod:8080")), true));
      assertThat(answered(b)).isEqualTo("app: GET /v6b x-dev=null ");
      assertThat(peers).hasSize(2).allSatisfy(p -> {
        InetSocketAddress peer = (InetSocketAddress) p;
        assertThat(peer.getAddress()).isEqualTo(InetAddress.getByName("::1"));
        assertThat(peer.getPort()).isBetween(24100, 24115);
      });
      assertThat(toAgent).noneMatch(m -> m instanceof Tcp.Close);
    } finally {
      app6.close().sync();
    }
  }

  @Test
  void afterTheAppClosedAnIdleConnectionTheNextRequestGetsANewOne() {
    long a = 0x4000_0000_0000_0004L;
    long b = 0x4000_0000_0000_0005L;
    gateway.request(request(a, "GET", "/then-close-when-idle", true));
    assertThat(answered(a)).startsWith("app: GET /then-close-when-idle");
    await().atMost(Duration.ofSeconds(10)).until(() -> appClosed.get() == 1); // the app's keep-alive timeout
    // ... and the gateway has read the close (a request that crossed it on the wire would be cut, as with any
    // keep-alive client: not what this test is about)
    await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
    gateway.request(request(b, "GET", "/b", true));
    assertThat(answered(b)).isEqualTo("app: GET /b x-dev=alice ");
    assertThat(appConnections.get()).isEqualTo(2);
    assertThat(toAgent).noneMatch(m -> m instanceof Tcp.Close);
  }

  @Test
  void aRequestWithoutBodyTheAppClosedTheConnectionOnIsSentAgainOnceIfItsMethodIsIdempotent() {
    long get = 0x4000_0000_0000_0008L;
    gateway.request(request(get, "GET", "/closes-first-time", true));
    assertThat(answered(get)).isEqualTo("app: GET /closes-first-time x-dev=alice ");
    assertThat(appSaw).containsExactly("GET /closes-first-time", "GET /closes-first-time");
    assertThat(appConnections.get()).isEqualTo(2);

    long post = 0x4000_0000_0000_0009L; // not idempotent: the agent answers the client 502
    gateway.request(new Http.Request(post, CONNECTION + 1, 8080, "198.18.0.9", 40001, Http.HTTP_1_1, "POST",
        "/closes-first-time-post", List.of(new Http.Header("Host", "pod:8080")), true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Close(post, true)));
    assertThat(appSaw).containsOnlyOnce("POST /closes-first-time-post");

    long always = 0x4000_0000_0000_000AL; // closed on again: sent twice, then the agent answers 502
    gateway.request(new Http.Request(always, CONNECTION + 2, 8080, "198.18.0.9", 40002, Http.HTTP_1_1, "GET",
        "/always-closes", List.of(new Http.Header("Host", "pod:8080")), true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Close(always, true)));
    assertThat(appSaw.stream().filter("GET /always-closes"::equals)).hasSize(2);
  }

  @Test
  void anAppThatCannotBeReachedGetsTheRequestAborted() {
    app.close().syncUninterruptibly();
    long a = 0x4000_0000_0000_0006L;
    gateway.request(request(a, "GET", "/a", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Close(a, true)));
  }

  /** The app: answers {@code app: METHOD PATH x-dev=… BODY}; closes the connection 100 ms after some answers. */
  private final class App extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      appSaw.add(req.method() + " " + req.uri());
      if (req.uri().startsWith("/always-closes")
          || req.uri().startsWith("/closes-first-time") && closedOnce.add(req.uri())) {
        ctx.close(); // as if its keep-alive timeout had crossed the request
        return;
      }
      ByteBuf body = Unpooled.copiedBuffer("app: " + req.method() + " " + req.uri() + " x-dev="
          + req.headers().get("x-dev") + " " + req.content().toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
      FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      ctx.writeAndFlush(res);
      if (req.uri().contains("then-close-when-idle")) {
        ctx.executor().schedule(() -> ctx.close(), 100, TimeUnit.MILLISECONDS);
      }
    }
  }
}
