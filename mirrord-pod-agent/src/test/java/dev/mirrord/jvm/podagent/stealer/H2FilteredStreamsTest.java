package dev.mirrord.jvm.podagent.stealer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import dev.mirrord.jvm.podagent.http.HttpFilterMatcher;
import dev.mirrord.jvm.podagent.iptables.PortRedirector;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * h2c prior knowledge on a filtered port, on loopback without iptables: a client writes HTTP/2
 * frames (made by Netty's frame writer) to the agent's listener in small pieces, the pass-through
 * h2c connection reaches a Netty h2c test server on the "target port", and a recording session
 * answers matched streams. Checks routing per stream on one connection, trailers both ways, a
 * client's reset, a failing app's 502, and a flow-control violation answered by GOAWAY without
 * harm to another connection.
 */
class H2FilteredStreamsTest {
  private EventLoopGroup loops;
  private TcpStealer stealer;
  private Channel target;
  private final List<String> targetRequests = new CopyOnWriteArrayList<>();
  /** DATA bytes the target's server got onto its socket (its write promises done). */
  private final AtomicLong targetSent = new AtomicLong();
  private final AtomicInteger agentPort = new AtomicInteger();
  private PortRedirector recording;

  @BeforeEach
  void start() throws Exception {
    loops = Transport.NIO.newGroup(1, new DefaultThreadFactory("test-h2-filtered", true));
    target = new ServerBootstrap().group(loops).channel(Transport.NIO.serverSocketChannel())
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                  @Override
                  protected void initChannel(Http2StreamChannel s) {
                    s.pipeline().addLast(new PodStream());
                  }
                }));
          }
        }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    recording = new PortRedirector() {
      @Override
      public void redirect(int targetPort, int port) {
        agentPort.set(port);
      }

      @Override
      public void unredirect(int targetPort, int port) {}

      @Override
      public Set<Integer> portsStolenByOthers() {
        return Set.of();
      }

      @Override
      public void close() {}
    };
    stealer = new TcpStealer(loops, recording, port -> {}, Duration.ZERO, "s1", 0);
  }

  @AfterEach
  void stop() {
    stealer.close();
    target.close().syncUninterruptibly();
    loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
  }

  private int targetPort() {
    return ((InetSocketAddress) target.localAddress()).getPort();
  }

  private RecordingSession subscribe(String name, Http.Filter filter) {
    RecordingSession s = new RecordingSession(loops.next(), name);
    assertThat(stealer.subscribeFiltered(targetPort(), s, HttpFilterMatcher.compile(filter)).isOk()).isTrue();
    return s;
  }

  @Test
  void bothConnectionsOfAStreamConsolidateTheirFlushesInFrontOfTheCodec() {
    // A relayed stream's end flushes its connection at once; with many streams in flight, one read of one side
    // ends many streams of the other: the flushes must meet a FlushConsolidationHandler before the socket, or each
    // is a writev of its own (55 % of the agent's CPU under unmatched gRPC load, docs/PERFORMANCE.md)
    EmbeddedChannel client = new EmbeddedChannel();
    client.pipeline().addLast("detect", new ChannelInboundHandlerAdapter());
    new H2FilteredStreams(stealer, null, 1, 0, client, Set.of()).install(client.pipeline(), "detect");
    assertThat(client.pipeline().names()).startsWith("h2-flush", "h2", "h2-streams", "detect");
    assertThat(client.pipeline().get("h2-flush")).isInstanceOf(FlushConsolidationHandler.class);

    EmbeddedChannel upstream = new EmbeddedChannel();
    H2FilteredStreams.upstreamCodec(upstream.pipeline());
    assertThat(upstream.pipeline().names()).startsWith("h2-flush", "h2");
    assertThat(upstream.pipeline().get("h2-flush")).isInstanceOf(FlushConsolidationHandler.class);
    client.finishAndReleaseAll();
    upstream.finishAndReleaseAll();
  }

  @Test
  void eachStreamOfOneConnectionIsMatchedOnItsOwnAndTrailersTravelBothWays() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("^x-dev: alice$"));
    try (H2Client c = new H2Client(agentPort.get())) {
      c.preface();
      c.headers(1, request("POST", "/pod.Svc/One").add("x-dev", "bob"), false);
      c.headers(3, request("POST", "/pod.Svc/Two").add("x-dev", "alice").add("grpc-timeout", "5S"), false);
      c.data(1, "abc", false);
      c.data(3, "hel", false);
      c.data(3, "lo", false);
      c.headers(5, request("GET", "/five"), true);
      c.data(1, "", true);
      c.headers(3, new DefaultHttp2Headers().add("x-request-trailer", "t1"), true);
      c.send(7); // in 7-byte pieces: frames split anywhere

      Http.Request req = alice.awaitRequest();
      assertThat(req.version()).isEqualTo(Http.HTTP_2);
      assertThat(req.method()).isEqualTo("POST");
      assertThat(req.uri()).isEqualTo("/pod.Svc/Two");
      assertThat(req.headers().get(0).name()).startsWith(":");
      assertThat(req.headers()).contains(new Http.Header(":path", "/pod.Svc/Two"), new Http.Header("x-dev", "alice"),
          new Http.Header("grpc-timeout", "5S"));
      assertThat(req.endOfStream()).isFalse();
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.body(req.streamId()).equals("hello"));
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.sent.stream().anyMatch(m -> m instanceof Http.BodyEnd));
      assertThat(alice.sent).contains(new Http.BodyEnd(req.streamId(), List.of(new Http.Header("x-request-trailer", "t1"))));
      answer(alice, req.streamId(), "from alice", "0");

      c.awaitEnded(1, 3, 5);
      assertThat(c.body(1)).isEqualTo("pod: /pod.Svc/One abc");
      assertThat(c.body(3)).isEqualTo("from alice");
      assertThat(c.body(5)).isEqualTo("pod: /five ");
      assertThat(c.header(3, ":status")).isEqualTo("200");
      assertThat(c.header(3, "grpc-status")).as("trailer").isEqualTo("0");
      assertThat(c.header(1, "grpc-status")).as("the pod's trailer").isEqualTo("0");
      assertThat(targetRequests).containsExactlyInAnyOrder("/pod.Svc/One abc", "/five ");
      assertThat(alice.requests()).hasSize(1);
    }
  }

  @Test
  void aClientResetAbortsTheSessionsStreamAndAFailingAppGetsA502() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Path("^/mine"));
    try (H2Client c = new H2Client(agentPort.get())) {
      c.preface();
      c.headers(1, request("POST", "/mine/cancelled"), false);
      c.headers(3, request("GET", "/mine/failed"), true);
      c.send(5);
      Http.Request first = alice.awaitRequest();
      Http.Request second = alice.awaitRequest();
      Http.Request cancelled = first.uri().endsWith("cancelled") ? first : second;
      Http.Request failed = cancelled == first ? second : first;
      c.reset(1, Http2Error.CANCEL);
      c.send(3);
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.sent.contains(new Tcp.Close(cancelled.streamId(), true)));

      alice.loop.execute(() -> stealer.fromClient(alice, new Tcp.Close(failed.streamId(), true)));
      c.awaitEnded(3);
      assertThat(c.header(3, ":status")).isEqualTo("502");
      assertThat(c.body(3)).startsWith("mirrord: the local app did not answer");
      assertThat(targetRequests).isEmpty();
    }
  }

  @Test
  void aFlowControlViolationEndsOnlyThatConnectionWithGoawayAndOneLogLine() throws Exception {
    subscribe("alice", new Http.Filter.Header("^x-dev: alice$"));
    ch.qos.logback.classic.Logger log =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(H2FilteredStreams.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    ch.qos.logback.classic.Level level = log.getLevel();
    log.setLevel(ch.qos.logback.classic.Level.INFO);
    try (H2Client bad = new H2Client(agentPort.get()); H2Client good = new H2Client(agentPort.get())) {
      bad.preface();
      bad.windowUpdate(0, Integer.MAX_VALUE); // overflows the agent's send window: FLOW_CONTROL_ERROR
      bad.send(3);
      await().atMost(Duration.ofSeconds(10)).until(() -> bad.goAwayError.get() >= 0 && bad.closed);
      assertThat(bad.goAwayError.get()).isEqualTo(Http2Error.FLOW_CONTROL_ERROR.code());

      good.preface();
      good.headers(1, request("GET", "/still-fine"), true);
      good.send(1000);
      good.awaitEnded(1);
      assertThat(good.body(1)).isEqualTo("pod: /still-fine ");
    } finally {
      log.detachAppender(lines);
      log.setLevel(level);
    }
    assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).singleElement(STRING)
        .contains("HTTP/2 protocol error").contains("Window size overflow");
  }

  @Test
  void handBackSendsGoawayAndTheStreamsInFlightStillFinish() throws Exception {
    stealer.close();
    stealer = new TcpStealer(loops, recording, port -> {}, Duration.ofSeconds(20), "s1", 0);
    RecordingSession alice = subscribe("alice", new Http.Filter.Path("^/mine"));
    try (H2Client c = new H2Client(agentPort.get())) {
      c.preface();
      c.headers(1, request("GET", "/mine/in-flight"), true);
      c.send(9);
      Http.Request req = alice.awaitRequest();
      stealer.unsubscribe(targetPort(), alice); // the port's last filter: handed back to the target
      await().atMost(Duration.ofSeconds(10)).until(() -> c.goAwayError.get() == Http2Error.NO_ERROR.code());
      assertThat(c.closed).as("open while a stream is in flight").isFalse();
      answer(alice, req.streamId(), "late but whole", "0");
      c.awaitEnded(1);
      assertThat(c.body(1)).isEqualTo("late but whole");
      assertThat(c.header(1, "grpc-status")).isEqualTo("0");
      await().atMost(Duration.ofSeconds(10)).until(() -> c.closed);
    }
  }

  @Test
  void anUnmatchedAnswerWaitsForTheClientsWindowAndTheServerIsHeldBackMeanwhile() throws Exception {
    subscribe("alice", new Http.Filter.Header("^x-dev: alice$"));
    int size = 2 * 1024 * 1024;
    try (H2Client c = new H2Client(agentPort.get())) {
      c.preface(); // the client's windows: HTTP/2's default 65 535 bytes, given back by nobody yet
      c.headers(1, request("GET", "/big/" + size), true);
      c.send(64 * 1024);
      await().atMost(Duration.ofSeconds(10)).until(() -> c.body(1).length() == Http2CodecUtil.DEFAULT_WINDOW_SIZE);
      Thread.sleep(1_000);
      // The agent holds the server's bytes back from the server's window while the client's stream cannot take them:
      // the server sends the agent's stream window (and what the client got), not the whole answer.
      assertThat(targetSent.get()).as("bytes the server could send").isLessThanOrEqualTo(
          H2FilteredStreams.STREAM_WINDOW + Http2CodecUtil.DEFAULT_WINDOW_SIZE + BIG_CHUNK);
      assertThat(c.body(1)).hasSize(Http2CodecUtil.DEFAULT_WINDOW_SIZE);
      c.windowUpdate(0, size);
      c.windowUpdate(1, size);
      c.send(64 * 1024);
      c.awaitEnded(1);
      assertThat(c.header(1, "grpc-status")).isEqualTo("0");
      StringBuilder expected = new StringBuilder(size);
      for (int i = 0; i < size; i += BIG_CHUNK) {
        expected.append(new String(bigChunk(i / BIG_CHUNK, Math.min(BIG_CHUNK, size - i)), StandardCharsets.US_ASCII));
      }
      assertThat(c.body(1)).as("the whole answer, in order").isEqualTo(expected.toString());
    }
  }

  private static final int BIG_CHUNK = 16 * 1024;

  /** Chunk {@code index} of a big answer: {@code n} times one letter, a different one per chunk. */
  private static byte[] bigChunk(int index, int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) ('a' + index % 26));
    return b;
  }

  private static Http2Headers request(String method, String path) {
    return new DefaultHttp2Headers().method(method).scheme("http").authority("pod:50051").path(path)
        .add("content-type", "application/grpc").add("te", "trailers");
  }

  /** The target's own h2c server: answers {@code pod: PATH BODY} with a grpc-status trailer. */
  private final class PodStream extends ChannelInboundHandlerAdapter {
    String path;
    final StringBuilder body = new StringBuilder();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        boolean end = false;
        if (msg instanceof Http2HeadersFrame h) {
          path = path == null ? String.valueOf(h.headers().path()) : path;
          end = h.isEndStream();
        } else if (msg instanceof Http2DataFrame d) {
          body.append(d.content().toString(StandardCharsets.UTF_8));
          end = d.isEndStream();
        }
        if (end && path.startsWith("/big/")) {
          targetRequests.add(path);
          ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
          int size = Integer.parseInt(path.substring(5));
          for (int i = 0; i < size; i += BIG_CHUNK) {
            int n = Math.min(BIG_CHUNK, size - i);
            ctx.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bigChunk(i / BIG_CHUNK, n))))
                .addListener(f -> {
                  if (f.isSuccess()) {
                    targetSent.addAndGet(n);
                  }
                });
          }
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
        } else if (end) {
          targetRequests.add(path + " " + body);
          ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
          ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("pod: " + path + " " + body, StandardCharsets.UTF_8)));
          ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("grpc-status", "0"), true));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  /**
   * A client on a plain socket: frames made by Netty's frame writer are sent in pieces of a given
   * size; a reader thread decodes what the agent sends with Netty's frame reader.
   */
  private static final class H2Client implements AutoCloseable {
    final Socket socket;
    final EmbeddedChannel wire = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    final ChannelHandlerContext ctx = wire.pipeline().firstContext();
    final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    final Map<Integer, Map<String, String>> headers = new ConcurrentHashMap<>();
    final Map<Integer, StringBuffer> bodies = new ConcurrentHashMap<>();
    final Set<Integer> ended = ConcurrentHashMap.newKeySet();
    final AtomicLong goAwayError = new AtomicLong(-1);
    volatile boolean closed;

    H2Client(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(15_000);
      Thread t = new Thread(this::read, "h2-test-client");
      t.setDaemon(true);
      t.start();
    }

    void preface() {
      wire.writeOutbound(Http2CodecUtil.connectionPrefaceBuf());
      writer.writeSettings(ctx, new Http2Settings(), wire.newPromise());
    }

    void headers(int stream, Http2Headers h, boolean end) {
      writer.writeHeaders(ctx, stream, h, 0, end, wire.newPromise());
    }

    void data(int stream, String text, boolean end) {
      writer.writeData(ctx, stream, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), 0, end, wire.newPromise());
    }

    void reset(int stream, Http2Error error) {
      writer.writeRstStream(ctx, stream, error.code(), wire.newPromise());
    }

    void windowUpdate(int stream, int increment) {
      writer.writeWindowUpdate(ctx, stream, increment, wire.newPromise());
    }

    /** Sends what was written so far, {@code piece} bytes at a time. */
    void send(int piece) throws IOException {
      wire.flushOutbound();
      OutputStream out = socket.getOutputStream();
      for (Object o; (o = wire.readOutbound()) != null; ) {
        ByteBuf b = (ByteBuf) o;
        try {
          byte[] bytes = new byte[b.readableBytes()];
          b.readBytes(bytes);
          for (int i = 0; i < bytes.length; i += piece) {
            out.write(bytes, i, Math.min(piece, bytes.length - i));
            out.flush();
          }
        } finally {
          b.release();
        }
      }
    }

    void awaitEnded(Integer... streams) {
      await().atMost(Duration.ofSeconds(10)).until(() -> ended.containsAll(List.of(streams)));
    }

    String body(int stream) {
      StringBuffer b = bodies.get(stream);
      return b == null ? "" : b.toString();
    }

    String header(int stream, String name) {
      return headers.getOrDefault(stream, Map.of()).get(name);
    }

    private void read() {
      DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader();
      ByteBuf in = Unpooled.buffer();
      Http2FrameAdapter listener = new Http2FrameAdapter() {
        @Override
        public void onHeadersRead(ChannelHandlerContext c, int stream, Http2Headers h, int padding, boolean end) {
          Map<String, String> m = headers.computeIfAbsent(stream, k -> new ConcurrentHashMap<>());
          h.forEach(e -> m.put(e.getKey().toString(), e.getValue().toString()));
          if (end) {
            ended.add(stream);
          }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int stream, Http2Headers h, int dependency, short weight,
            boolean exclusive, int padding, boolean end) {
          onHeadersRead(c, stream, h, padding, end);
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int stream, ByteBuf data, int padding, boolean end) {
          bodies.computeIfAbsent(stream, k -> new StringBuffer()).append(data.toString(StandardCharsets.UTF_8));
          if (end) {
            ended.add(stream);
          }
          return data.readableBytes() + padding;
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int stream, long errorCode) {
          ended.add(stream);
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int last, long errorCode, ByteBuf debugData) {
          goAwayError.set(errorCode);
        }
      };
      try {
        InputStream is = socket.getInputStream();
        byte[] buf = new byte[16 * 1024];
        int n;
        while ((n = is.read(buf)) > 0) {
          in.writeBytes(buf, 0, n);
          reader.readFrame(ctx, in, listener);
          in.discardReadBytes();
        }
      } catch (IOException | Http2Exception e) {
        // closed
      } finally {
        closed = true;
        in.release();
        reader.close();
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      wire.finishAndReleaseAll();
    }
  }

  /** Answers {@code streamId} as the CLI would. */
  private void answer(RecordingSession s, long streamId, String text, String grpcStatus) {
    s.loop.execute(() -> {
      stealer.fromClient(s, new Http.Response(streamId, Http.HTTP_2, 200, "",
          List.of(new Http.Header("content-type", "application/grpc")), false));
      stealer.fromClient(s, new Tcp.Data(streamId, Payload.copyOf(text.getBytes(StandardCharsets.UTF_8))));
      stealer.fromClient(s, new Http.BodyEnd(streamId, List.of(new Http.Header("grpc-status", grpcStatus))));
    });
  }
}
