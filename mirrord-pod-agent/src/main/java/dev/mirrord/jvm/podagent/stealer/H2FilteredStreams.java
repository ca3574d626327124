package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.podagent.http.MirrorHttpFilter;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 part of a {@link FilteredConnection} whose client spoke h2c with prior knowledge
 * (gRPC): Netty's {@link Http2FrameCodec} + {@link Http2MultiplexHandler} terminate the client's
 * HTTP/2 connection, and each stream, a child channel, is matched on its own request headers.
 *
 * <ul>
 *   <li>A matched stream goes to the session as {@code Http.Request} (version 20, pseudo-headers
 *       first) + {@code Tcp.Data} + {@code Http.BodyEnd}; the session's {@code Http.Response},
 *       data and trailers become HEADERS / DATA / HEADERS(end of stream) on that stream.
 *   <li>An unmatched stream is opened on this connection's one h2c connection to the pass-through
 *       target (the pod's server, or the next older filtering agent: the socket carries the agent's
 *       pass-through gid as for HTTP/1), and its frames are relayed both ways.
 * </ul>
 *
 * <p>Back-pressure is HTTP/2's own: a stream's child channel reads (and so returns flow-control
 * window to the client) only while where its frames go can take them: the session's connection
 * is writable and the CLI has not paused the stream ({@code Tcp.Flow}), or the upstream stream is
 * writable. The other way, a child channel is unwritable while its frames wait for the client's
 * window, and then the session's stream is paused, or the upstream stream is not read. A protocol
 * error (a flow-control violation, a malformed frame) is Netty's: it answers GOAWAY or RST_STREAM
 * and closes what it must; the connection logs one line. Everything runs on the client socket's
 * event loop.
 */
final class H2FilteredStreams {
  private static final Logger logger = LoggerFactory.getLogger(H2FilteredStreams.class);

  /** The stream window the agent gives (to clients and by the pass-through server): bytes held per paused stream. */
  static final int STREAM_WINDOW = 256 * 1024;

  /** The connection window the agent gives: up to this many bytes of paused streams before the others stall. */
  static final int CONNECTION_WINDOW = 4 * 1024 * 1024;

  /** Request head size (HPACK-decoded), as the HTTP/1 head limit. */
  static final int MAX_HEADER_LIST = 64 * 1024;

  /** How long a graceful close (GOAWAY) waits for the connection's open streams. */
  static final long GRACEFUL_CLOSE_MILLIS = 30_000;

  /** Streams a client may have open at once on one connection. */
  static final int MAX_CONCURRENT_STREAMS = 1024;

  private final TcpStealer stealer;
  private final FilteredPort port;
  private final long connectionId;
  private final int passThroughGid;
  private final Channel client;
  /** The sessions that got a stream of this connection: they hear when it ends. */
  private final Set<StealClient> sessionsSeen;

  /** The h2c connection new unmatched streams open on; null until one is needed, or after a GOAWAY. */
  private Channel upstream;
  private boolean upstreamReady;
  /** Every upstream connection made (one that sent GOAWAY keeps serving its streams): closed with the client. */
  private final List<Channel> upstreams = new ArrayList<>();
  /** Unmatched streams waiting for {@link #upstream} to connect. */
  private final ArrayDeque<PassStream> waiting = new ArrayDeque<>();
  private boolean multiMatchLogged;
  private boolean errorLogged;
  private boolean closed;

  H2FilteredStreams(TcpStealer stealer, FilteredPort port, long connectionId, int passThroughGid, Channel client,
      Set<StealClient> sessionsSeen) {
    this.stealer = stealer;
    this.port = port;
    this.connectionId = connectionId;
    this.passThroughGid = passThroughGid;
    this.client = client;
    this.sessionsSeen = sessionsSeen;
  }

  /** Puts the HTTP/2 server codec in front of {@code before} (the client's bytes so far reach it next). */
  void install(ChannelPipeline pipeline, String before) {
    Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
        .initialSettings(settings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS))
        // a graceful close (hand-back, the client's half-close) waits this long for the open streams;
        // the builder's own default is 0 (none)
        .gracefulShutdownTimeoutMillis(GRACEFUL_CLOSE_MILLIS)
        .build();
    pipeline.addBefore(before, "h2", codec);
    // A relayed stream's end flushes its connection at once (its child channel may close before any read-complete),
    // and with many streams in flight one read of one connection ends many streams of the other: consolidated, those
    // flushes are one writev per read or loop turn instead of one per stream (55 % of the agent's CPU under unmatched
    // gRPC load was writev without it: docs/PERFORMANCE.md, 2026-12-06 04:10). So on each upstream connection too.
    pipeline.addBefore("h2", "h2-flush", ProtocolPipeline.flushConsolidation());
    pipeline.addBefore(before, "h2-streams", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        ch.pipeline().addLast(new ClientStream(ch));
      }
    }));
    // The connection's window beyond HTTP/2's 64 KiB default: a paused stream must not stall the others at once.
    client.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
  }

  private static Http2Settings settings() {
    return Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).maxHeaderListSize(MAX_HEADER_LIST);
  }

  /**
   * An exception from the client connection's pipeline; whether it was an HTTP/2 protocol error,
   * which Netty answers (GOAWAY, then close) by itself: logged once per connection.
   */
  boolean protocolError(Throwable cause) {
    if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
      return false;
    }
    if (!errorLogged) {
      errorLogged = true;
      logger.info("connection {} from {} on port {}: HTTP/2 protocol error ({}); Netty closes it with GOAWAY",
          FilteredConnection.hex(connectionId), client.remoteAddress(), port.port, cause.getMessage());
    }
    return true;
  }

  /** The client connection is gone: so are the upstream connections. */
  void closed() {
    closed = true;
    waiting.clear();
    upstream = null;
    upstreamReady = false;
    upstreams.forEach(Channel::close);
    upstreams.clear();
  }

  // ---------------------------------------------------------------- one client stream

  /** Where a client stream's frames go once its headers are matched. */
  private interface Route {
    /** A frame from the client (owned). */
    void fromClient(Object frame);

    void flush();

    void clientWritabilityChanged();

    void clientGone();
  }

  /** The handler of one client stream's child channel: matches its first HEADERS, then hands on. */
  private final class ClientStream extends ChannelInboundHandlerAdapter {
    final Http2StreamChannel ch;
    Route route;

    ClientStream(Http2StreamChannel ch) {
      this.ch = ch;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (route != null) {
        route.fromClient(msg);
      } else if (msg instanceof Http2HeadersFrame h) {
        route = route(ch, h);
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (route != null) {
        route.flush();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (route != null) {
        route.clientWritabilityChanged();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (route != null) {
        route.clientGone();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("stream {} of connection {}: {}", ch.stream().id(), FilteredConnection.hex(connectionId),
          cause.toString());
      ctx.close();
    }
  }

  private Route route(Http2StreamChannel ch, Http2HeadersFrame head) {
    FilteredPort.Match match = port.handedBack ? null : port.match(MirrorHttpFilter.view(head.headers()));
    if (match != null && !match.alsoMatched().isEmpty() && !multiMatchLogged) {
      multiMatchLogged = true;
      logger.info("HTTP/2 {} {} on port {} matches the filters of {} and {}; {} takes it (first match)",
          head.headers().method(), head.headers().path(), port.port, match.client().name(),
          String.join(", ", match.alsoMatched().stream().map(StealClient::name).toList()), match.client().name());
    }
    if (match == null) {
      PassStream p = new PassStream(ch);
      p.start(head);
      return p;
    }
    StolenStream s = new StolenStream(stealer.newId(), match.client(), ch);
    s.start(head);
    return s;
  }

  // ---------------------------------------------------------------- matched: the session answers

  /** A matched stream: the session's under {@link #streamId}. */
  private final class StolenStream implements Route, StolenFlow {
    final long streamId;
    final StealClient owner;
    final Http2StreamChannel ch;
    boolean done;
    boolean requestEnded;
    boolean finalHead;
    boolean pausedByOwner;
    boolean pausedOwner;

    StolenStream(long streamId, StealClient owner, Http2StreamChannel ch) {
      this.streamId = streamId;
      this.owner = owner;
      this.ch = ch;
    }

    void start(Http2HeadersFrame head) {
      sessionsSeen.add(owner);
      stealer.registerFlow(this);
      Http2Headers h = head.headers();
      requestEnded = head.isEndStream();
      InetSocketAddress src = (InetSocketAddress) client.remoteAddress();
      owner.send(new Http.Request(streamId, connectionId, port.port, TcpStealer.literal(src.getAddress()),
          src.getPort(), Http.HTTP_2, String.valueOf(h.method()), String.valueOf(h.path()),
          Http.Header.listOf(h.iterator()), requestEnded));
      updateRead();
    }

    @Override
    public long id() {
      return streamId;
    }

    @Override
    public StealClient owner() {
      return owner;
    }

    @Override
    public EventLoop loop() {
      return ch.eventLoop();
    }

    // client → session

    @Override
    public void fromClient(Object frame) {
      try {
        if (frame instanceof Http2ResetFrame) {
          if (!done) {
            abort(); // the client cancelled (gRPC: a cancelled call)
          }
        } else if (done || requestEnded) {
          return; // the answer is complete (or abandoned); the rest of the request is dropped
        } else if (frame instanceof Http2DataFrame d) {
          if (d.content().isReadable()) {
            owner.sendData(streamId, d.content().retain());
          }
          if (d.isEndStream()) {
            endRequest(List.of());
          }
        } else if (frame instanceof Http2HeadersFrame trailers) {
          endRequest(Http.Header.listOf(trailers.headers().iterator()));
        }
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    private void endRequest(List<Http.Header> trailers) {
      requestEnded = true;
      owner.send(new Http.BodyEnd(streamId, trailers));
    }

    @Override
    public void flush() {}

    @Override
    public void clientWritabilityChanged() {
      updateFlow();
    }

    @Override
    public void clientGone() {
      if (!done) {
        abort(); // reset by the client, or its connection went
      }
    }

    private void abort() {
      owner.send(new Tcp.Close(streamId, true));
      finish();
    }

    private void updateRead() {
      boolean read = done || requestEnded || (owner.writable() && !pausedByOwner);
      if (ch.config().isAutoRead() != read) {
        ch.config().setAutoRead(read);
      }
    }

    /** Pauses the session's answer while the client's window (or socket) cannot take it. */
    private void updateFlow() {
      boolean pause = !done && !ch.isWritable();
      if (pause != pausedOwner) {
        pausedOwner = pause;
        owner.send(new Tcp.Flow(streamId, pause));
      }
    }

    private void finish() {
      done = true;
      stealer.unregisterFlow(streamId);
      updateRead();
    }

    // session → client

    @Override
    public void fromOwner(Object message) {
      if (message instanceof Tcp.Flow f) {
        pausedByOwner = f.paused();
        updateRead();
        return;
      }
      if (done || !ch.isActive()) {
        DataFrame.discard(message);
        return;
      }
      if (message instanceof Http.Response r) {
        Http2Headers headers = new DefaultHttp2Headers(false).status(Integer.toString(r.status()));
        addAll(headers, r.headers());
        finalHead = r.status() >= 200;
        ch.write(new DefaultHttp2HeadersFrame(headers, r.endOfStream()));
        if (r.endOfStream()) {
          finish();
        }
      } else if (DataFrame.isData(message)) {
        ByteBuf bytes = DataFrame.bytesOf(message);
        if (finalHead) {
          ch.write(new DefaultHttp2DataFrame(bytes, false));
        } else {
          bytes.release(); // no body before the head (or after an informational one)
        }
      } else if (message instanceof Http.BodyEnd end) {
        if (!finalHead) {
          return; // the end of an informational answer
        }
        if (end.trailers().isEmpty()) {
          ch.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        } else {
          Http2Headers trailers = new DefaultHttp2Headers(false);
          addAll(trailers, end.trailers());
          ch.write(new DefaultHttp2HeadersFrame(trailers, true));
        }
        finish();
      } else if (message instanceof Tcp.Close close) {
        failed(close.reset());
      } else {
        DataFrame.discard(message);
        return;
      }
      // once per batch of the session's messages: headers, data and trailers in one write
      flushStreamAtBatchEnd(ch);
      updateFlow();
    }

    /** The app could not answer (or broke off): a 502 if nothing was written yet, else the stream is reset. */
    private void failed(boolean reset) {
      if (!finalHead) {
        byte[] body = ("mirrord: the local app did not answer this request" + (reset ? " (stream reset)" : "")
            + "\n").getBytes(StandardCharsets.UTF_8);
        Http2Headers headers = new DefaultHttp2Headers(false).status("502");
        headers.set("content-type", "text/plain; charset=utf-8");
        headers.setInt("content-length", body.length);
        ch.write(new DefaultHttp2HeadersFrame(headers, false));
        ch.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
      } else {
        ch.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
      }
      finish();
    }

    @Override
    public void ownerWritabilityChanged() {
      updateRead();
    }

    @Override
    public void ownerGone() {
      if (!done && ch.isActive()) {
        failed(true);
        flushStream(ch);
      }
      finish();
    }
  }

  private static void addAll(Http2Headers to, List<Http.Header> from) {
    for (Http.Header h : from) {
      if (!h.name().startsWith(":")) {
        to.add(h.name().toLowerCase(Locale.ROOT), h.value());
      }
    }
  }

  // ---------------------------------------------------------------- unmatched: the pod's server answers

  /** An unmatched stream, relayed frame by frame to a stream of the upstream connection. */
  private final class PassStream implements Route {
    final Http2StreamChannel ch;
    Http2StreamChannel up;
    /** Frames from the client before the upstream stream was open. */
    final ArrayDeque<Http2StreamFrame> pending = new ArrayDeque<>();
    long pendingBytes;
    boolean failed;
    /** The upstream's answer ended (end of stream or reset): nothing more to relay to the client. */
    boolean upstreamEnded;

    PassStream(Http2StreamChannel ch) {
      this.ch = ch;
    }

    void start(Http2HeadersFrame head) {
      pending.add(copy(head));
      openUpstream(this);
    }

    @Override
    public void fromClient(Object frame) {
      try {
        Http2StreamFrame copy = failed ? null : copy(frame);
        if (copy == null) {
          return;
        }
        if (up != null) {
          up.write(copy);
          if (isEnd(copy)) {
            flushStream(up); // the stream may close now, and its read-complete never come
          }
        } else {
          pending.add(copy);
          if (copy instanceof Http2DataFrame d) {
            pendingBytes += d.content().readableBytes();
          }
          updateRead();
        }
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    @Override
    public void flush() {
      if (up != null) {
        flushStream(up);
      }
    }

    void attach(Http2StreamChannel up) {
      this.up = up;
      if (failed || !ch.isActive()) {
        releasePending();
        up.close(); // resets the upstream stream
        return;
      }
      Http2StreamFrame f;
      while ((f = pending.poll()) != null) {
        up.write(f);
      }
      pendingBytes = 0;
      flushStream(up);
      updateRead();
      clientWritabilityChanged();
    }

    /** The client's stream is read while its frames can go on (the upstream stream's window, or a bounded queue). */
    void updateRead() {
      boolean read = up != null ? up.isWritable() : pendingBytes < STREAM_WINDOW;
      if (ch.config().isAutoRead() != read) {
        ch.config().setAutoRead(read);
      }
    }

    @Override
    public void clientWritabilityChanged() {
      if (up != null && up.config().isAutoRead() != ch.isWritable()) {
        up.config().setAutoRead(ch.isWritable());
      }
    }

    @Override
    public void clientGone() {
      releasePending();
      failed = true;
      if (up != null) {
        up.close(); // resets the upstream stream if it is still open
      }
    }

    void fromUpstream(Object frame) {
      try {
        Http2StreamFrame copy = copy(frame);
        if (copy == null) {
          return;
        }
        boolean end = isEnd(copy);
        if (end) {
          upstreamEnded = true;
        }
        if (ch.isActive()) {
          ch.write(copy);
          if (end) {
            flushStream(ch); // the stream may close now, and its read-complete never come
          }
        } else {
          ReferenceCountUtil.release(copy);
        }
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    /** The upstream stream closed: if its answer did not end, neither can the client's. */
    void upstreamInactive() {
      if (!upstreamEnded && ch.isActive()) {
        upstreamEnded = true;
        ch.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
        flushStream(ch);
      }
    }

    /** No upstream stream could be opened: {@code refused} when the request never left the agent. */
    void upstreamFailed(boolean refused) {
      failed = true;
      releasePending();
      if (ch.isActive()) {
        ch.write(new DefaultHttp2ResetFrame(refused ? Http2Error.REFUSED_STREAM : Http2Error.INTERNAL_ERROR));
        flushStream(ch);
      }
    }

    private void releasePending() {
      pending.forEach(ReferenceCountUtil::release);
      pending.clear();
      pendingBytes = 0;
    }
  }

  /**
   * Flushes what was written on {@code stream}: on its parent, since a stream's child channel is
   * inactive (and flushes nothing) as soon as its last frame was written.
   */
  static void flushStream(Http2StreamChannel stream) {
    stream.parent().flush();
  }

  /** {@link #flushStream}, deferred to the end of the read batch this thread dispatches, if any ({@code ReadBatch}). */
  static void flushStreamAtBatchEnd(Http2StreamChannel stream) {
    dev.mirrord.jvm.protocol.relay.ReadBatch.flush(stream.parent());
  }

  /** The same frame for another stream (a frame carries its stream); null for what is per hop. */
  static Http2StreamFrame copy(Object frame) {
    if (frame instanceof Http2HeadersFrame h) {
      return new DefaultHttp2HeadersFrame(h.headers(), h.isEndStream());
    } else if (frame instanceof Http2DataFrame d) {
      return new DefaultHttp2DataFrame(d.content().retain(), d.isEndStream());
    } else if (frame instanceof Http2ResetFrame r) {
      return new DefaultHttp2ResetFrame(r.errorCode());
    }
    return null;
  }

  private static boolean isEnd(Http2StreamFrame f) {
    return f instanceof Http2ResetFrame
        || (f instanceof Http2HeadersFrame h && h.isEndStream())
        || (f instanceof Http2DataFrame d && d.isEndStream());
  }

  // ---------------------------------------------------------------- the upstream h2c connection

  private void openUpstream(PassStream s) {
    if (closed) {
      s.upstreamFailed(true);
      return;
    }
    if (upstream == null) {
      connectUpstream();
    }
    if (upstreamReady) {
      openStream(s);
    } else {
      waiting.add(s);
    }
  }

  private void openStream(PassStream s) {
    new Http2StreamChannelBootstrap(upstream).handler(new UpstreamStream(s)).open()
        .addListener((Future<Http2StreamChannel> f) -> {
          if (f.isSuccess()) {
            s.attach(f.getNow());
          } else {
            logger.debug("connection {}: cannot open an upstream stream: {}", FilteredConnection.hex(connectionId),
                f.cause().toString());
            s.upstreamFailed(true);
          }
        });
  }

  private void connectUpstream() {
    InetSocketAddress local = (InetSocketAddress) client.localAddress();
    InetSocketAddress target = new InetSocketAddress(local.getAddress(), port.port);
    EventLoop loop = client.eventLoop();
    upstreamReady = false;
    Bootstrap b = new Bootstrap()
        .group(loop)
        .channelFactory(PassThroughSockets.factory(loop, passThroughGid))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            upstreamCodec(ch.pipeline());
            ch.pipeline().addLast("upstream", new UpstreamConnection());
          }
        });
    Channel up = b.register().channel();
    upstream = up;
    upstreams.add(up);
    up.connect(target).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess() && up == upstream) {
        logger.info("connection {} on port {}: cannot reach the target's own server: {}",
            FilteredConnection.hex(connectionId), port.port, f.cause().getMessage());
        upstreamGone(up);
      }
    });
  }

  /** The HTTP/2 client codec of an upstream connection, behind its flush consolidation. */
  static void upstreamCodec(ChannelPipeline pipeline) {
    pipeline.addLast("h2-flush", ProtocolPipeline.flushConsolidation());
    pipeline.addLast("h2", Http2FrameCodecBuilder.forClient()
        .initialSettings(settings().pushEnabled(false))
        .encoderEnforceMaxConcurrentStreams(true) // the server's limit: streams wait for a slot
        .build());
    pipeline.addLast("h2-streams", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
  }

  /** {@code up} can take no new streams: the waiting ones are refused, the next one connects anew. */
  private void upstreamGone(Channel up) {
    if (up != upstream) {
      return;
    }
    upstream = null;
    upstreamReady = false;
    PassStream s;
    while ((s = waiting.poll()) != null) {
      s.upstreamFailed(true);
    }
  }

  /** The upstream connection's own handler, after the codec and the multiplexer. */
  private final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext uctx) {
      Channel up = uctx.channel();
      if (up != upstream) {
        up.close();
        return;
      }
      upstreamReady = true;
      up.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
      PassStream s;
      while ((s = waiting.poll()) != null) {
        openStream(s);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext uctx, Object msg) {
      if (msg instanceof Http2GoAwayFrame) {
        upstreamGone(uctx.channel()); // its open streams finish on it; new ones go to a new connection
      }
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext uctx) {
      upstreams.remove(uctx.channel());
      upstreamGone(uctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
      logger.debug("upstream h2c connection of {}: {}", FilteredConnection.hex(connectionId), cause.toString());
      if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
        uctx.close();
      }
    }
  }

  /** The handler of one upstream stream: the server's frames go to the client's stream. */
  private static final class UpstreamStream extends ChannelInboundHandlerAdapter {
    final PassStream s;

    UpstreamStream(PassStream s) {
      this.s = s;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      s.fromUpstream(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      flushStream(s.ch);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      s.updateRead();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      s.upstreamInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("upstream stream: {}", cause.toString());
      ctx.close();
    }
  }
}
