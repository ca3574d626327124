package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
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
 * The CLI's replay of matched HTTP/2 streams: {@code Http.Request} version 20 + body from the "agent" (a recording
 * channel) becomes a stream of one h2c connection to the app (a Netty h2c server on loopback), and the app's headers,
 * DATA and trailers come back as {@code Http.Response} + {@code Tcp.Data} + {@code Http.BodyEnd}.
 */
class H2GatewayTest {
  private static final long CONNECTION = 0x4000_0000_0000_0001L;

  private EventLoopGroup loops;
  private Channel app;
  private final AtomicInteger appConnections = new AtomicInteger();
  private final List<String> appSaw = new CopyOnWriteArrayList<>();
  private final RecordingAgent agent = new RecordingAgent();
  private final List<Message> toAgent = agent.received;
  private HttpGateway gateway;

  @BeforeEach
  void start() throws Exception {
    loops = Transport.NIO.newGroup(1, new DefaultThreadFactory("test-h2-gateway", true));
    app = new ServerBootstrap().group(loops).channel(Transport.NIO.serverSocketChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            appConnections.incrementAndGet();
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                  @Override
                  protected void initChannel(Http2StreamChannel s) {
                    s.pipeline().addLast(new AppStream());
                  }
                }));
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
    return new Http.Request(stream, CONNECTION, 50051, "198.18.0.9", 40000, Http.HTTP_2, method, path,
        List.of(new Http.Header(":method", method), new Http.Header(":scheme", "http"),
            new Http.Header(":authority", "pod:50051"), new Http.Header(":path", path),
            new Http.Header("content-type", "application/grpc"), new Http.Header("x-dev", "alice")), end);
  }

  @Test
  void streamsOfOneClientConnectionShareOneAppConnectionWithBodiesAndTrailersBothWays() {
    long a = 0x4000_0000_0000_0002L;
    long b = 0x4000_0000_0000_0003L;
    gateway.request(request(a, "POST", "/svc/A", false));
    gateway.fromAgent(new Tcp.Data(a, Payload.copyOf("hel".getBytes(StandardCharsets.UTF_8))));
    gateway.request(request(b, "GET", "/svc/fail", true));
    gateway.fromAgent(new Tcp.Data(a, Payload.copyOf("lo".getBytes(StandardCharsets.UTF_8))));
    gateway.fromAgent(new Http.BodyEnd(a, List.of(new Http.Header("x-request-trailer", "t1"))));

    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(a,
        List.of(new Http.Header("grpc-status", "0")))));
    assertThat(toAgent).contains(
        new Http.Response(a, Http.HTTP_2, 200, "", List.of(new Http.Header("content-type", "application/grpc")),
            false),
        new Tcp.Data(a, Payload.copyOf("app: /svc/A hello".getBytes(StandardCharsets.UTF_8))));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.stream().anyMatch(m ->
        m instanceof Http.Response r && r.streamId() == b));
    Http.Response failed = toAgent.stream().filter(m -> m instanceof Http.Response r && r.streamId() == b)
        .map(Http.Response.class::cast).findFirst().orElseThrow();
    assertThat(failed.endOfStream()).as("a trailers-only answer").isTrue();
    assertThat(failed.headers()).contains(new Http.Header("grpc-status", "9"));
    assertThat(appSaw).containsExactlyInAnyOrder("POST /svc/A x-dev=alice body=hello trailer=t1",
        "GET /svc/fail x-dev=alice body= trailer=null");
    assertThat(appConnections.get()).isEqualTo(1);
  }

  @Test
  void anAppThatCannotBeReachedGetsTheStreamAborted() {
    app.close().syncUninterruptibly();
    long a = 0x4000_0000_0000_0004L;
    gateway.request(request(a, "GET", "/svc/A", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Close(a, true)));
  }

  @Test
  void aRequestThatArrivesInOneReadBatchOfTheAgentLeavesForTheAppWhenTheBatchEnds() throws Exception {
    long first = 0x4000_0000_0000_0005L;
    long batched = 0x4000_0000_0000_0006L;
    gateway.request(request(first, "GET", "/svc/first", true)); // the app connection is up after this one
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(first,
        List.of(new Http.Header("grpc-status", "0")))));
    // as AgentConnectionHandler dispatches one read of the agent's connection: head, body and end
    loops.next().submit(() -> {
      ReadBatch.begin();
      gateway.request(request(batched, "POST", "/svc/B", false));
      gateway.fromAgent(new Tcp.Data(batched, Payload.copyOf("batched".getBytes(StandardCharsets.UTF_8))));
      gateway.fromAgent(new Http.BodyEnd(batched, List.of()));
    }).sync();
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> appSaw.size() == 1);
    loops.next().execute(ReadBatch::end);
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Data(batched,
        Payload.copyOf("app: /svc/B batched".getBytes(StandardCharsets.UTF_8)))));
    assertThat(appSaw).contains("POST /svc/B x-dev=alice body=batched trailer=null");
    assertThat(appConnections.get()).isEqualTo(1);
  }

  private long bytesToAgent(long stream) {
    return toAgent.stream().filter(m -> m instanceof Tcp.Data d && d.connectionId() == stream)
        .mapToLong(m -> ((Tcp.Data) m).bytes().size()).sum();
  }

  @Test
  void aStreamTheAgentPausedGetsAtMostOneWindowOfTheAppsAnswerUntilItResumes() {
    long a = 0x4000_0000_0000_0007L;
    long b = 0x4000_0000_0000_0008L;
    gateway.request(request(a, "GET", "/svc/big", true));
    gateway.fromAgent(new Tcp.Flow(a, true));
    await().atMost(Duration.ofSeconds(10)).until(() -> bytesToAgent(a) > 0);
    // The app has 4 MiB to send; a paused stream gives nothing back to its window.
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(10))
        .until(() -> bytesToAgent(a), n -> n == H2Gateway.STREAM_WINDOW);
    // The connection's other streams are not held up by it.
    gateway.request(request(b, "GET", "/svc/B", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(b,
        List.of(new Http.Header("grpc-status", "0")))));
    assertThat(bytesToAgent(a)).isEqualTo(H2Gateway.STREAM_WINDOW);
    gateway.fromAgent(new Tcp.Flow(a, false));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(a,
        List.of(new Http.Header("grpc-status", "0")))));
    assertThat(bytesToAgent(a)).isEqualTo(BIG);
    assertThat(appConnections.get()).isEqualTo(1);
  }

  @Test
  void anAppConnectionThatClosesInTheMiddleOfAnAnswerResetsItsStreamAndTheNextRequestGetsANewOne() {
    long a = 0x4000_0000_0000_0009L;
    long b = 0x4000_0000_0000_000AL;
    gateway.request(request(a, "GET", "/svc/close", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Tcp.Close(a, true)));
    assertThat(toAgent).anyMatch(m -> m instanceof Http.Response r && r.streamId() == a && !r.endOfStream());
    gateway.request(request(b, "GET", "/svc/B", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(b,
        List.of(new Http.Header("grpc-status", "0")))));
    assertThat(appConnections.get()).isEqualTo(2);
  }

  @Test
  void afterTheAppsGoAwayItsStreamsFinishAndTheNextOnesGoOnANewConnection() {
    long a = 0x4000_0000_0000_000BL;
    long b = 0x4000_0000_0000_000CL;
    gateway.request(request(a, "GET", "/svc/goaway", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(a,
        List.of(new Http.Header("grpc-status", "0")))));
    gateway.request(request(b, "GET", "/svc/B", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> toAgent.contains(new Http.BodyEnd(b,
        List.of(new Http.Header("grpc-status", "0")))));
    assertThat(appConnections.get()).isEqualTo(2);
    assertThat(toAgent).noneMatch(m -> m instanceof Tcp.Close);
  }

  /** What {@code /svc/big} answers: four times the stream window the CLI gives the app. */
  private static final int BIG = 4 * H2Gateway.STREAM_WINDOW;

  /** The app: answers {@code app: PATH BODY} with a grpc-status trailer, or a trailers-only status 9 for {@code /svc/fail}. */
  private final class AppStream extends ChannelInboundHandlerAdapter {
    String head;
    String trailer;
    final StringBuilder body = new StringBuilder();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean end = false;
        if (msg instanceof Http2HeadersFrame h && head == null) {
          head = h.headers().method() + " " + h.headers().path() + " x-dev=" + h.headers().get("x-dev");
          end = h.isEndStream();
        } else if (msg instanceof Http2HeadersFrame t) {
          trailer = String.valueOf(t.headers().get("x-request-trailer"));
          end = t.isEndStream();
        } else if (msg instanceof Http2DataFrame d) {
          body.append(d.content().toString(StandardCharsets.UTF_8));
          end = d.isEndStream();
        }
        if (!end) {
          return;
        }
        appSaw.add(head + " body=" + body + " trailer=" + trailer);
        if (head.contains("/svc/close")) {
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
              .add("content-type", "application/grpc")))
              .addListener(f -> ctx.channel().parent().close());
          return;
        }
        if (head.contains("/svc/goaway")) {
          ctx.channel().parent().writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        }
        if (head.contains("/svc/big")) {
          ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
              .add("content-type", "application/grpc")));
          for (int sent = 0; sent < BIG; sent += 16 * 1024) {
            ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[16 * 1024])));
          }
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
          return;
        }
        if (head.contains("/svc/fail")) {
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
              .add("content-type", "application/grpc").add("grpc-status", "9"), true));
          return;
        }
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
            .add("content-type", "application/grpc")));
        String path = head.split(" ")[1];
        ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("app: " + path + " " + body,
            StandardCharsets.UTF_8)));
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
