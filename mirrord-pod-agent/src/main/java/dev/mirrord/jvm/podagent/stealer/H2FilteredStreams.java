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
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 part of a {@link FilteredConnection} whose client spoke h2c with prior knowledge
 * (gRPC): Netty's {@link Http2FrameCodec} terminates the client's HTTP/2 connection, and each
 * stream is matched on its own request headers.
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
 * <p>Streams are frames of their connection's own channel on both sides (the client's and the
 * upstream's {@link Http2FrameCodec}, no {@code Http2MultiplexHandler}): a stream costs no child
 * channel, pipeline, registration or promise chain of its own (docs/PERFORMANCE.md, 2026-12-06
 * 07:00: they were a fifth of the agent's CPU under unmatched gRPC load). A connection's writes are
 * flushed once per read of the other side, or once per batch of the session's messages.
 *
 * <p>Back-pressure is HTTP/2's own: a stream's received DATA is given back to the sender's window
 * only while where it goes can take more — the session's connection is writable and the CLI has
 * not paused the stream ({@code Tcp.Flow}), or the upstream stream (its window and socket) is
 * writable — so a stalled side holds at most one stream window of the other. The other way, while
 * a client stream cannot take the session's answer (its window or the socket), the session's
 * stream is paused. A protocol error (a flow-control violation, a malformed frame) is Netty's: it
 * answers GOAWAY or RST_STREAM and closes what it must; the connection logs one line. Everything
 * runs on the client socket's event loop.
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

  /** The client connection's codec; null before {@link #install}. */
  private Http2FrameCodec clientCodec;
  /** The client's open streams, by their frame stream (the key of the client's frames). */
  private final Map<Http2FrameStream, Route> routes = new IdentityHashMap<>();

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
    clientCodec = Http2FrameCodecBuilder.forServer()
        .initialSettings(settings().maxConcurrentStreams(MAX_CONCURRENT_STREAMS))
        // a graceful close (hand-back, the client's half-close) waits this long for the open streams;
        // the builder's own default is 0 (none)
        .gracefulShutdownTimeoutMillis(GRACEFUL_CLOSE_MILLIS)
        .build();
    pipeline.addBefore(before, "h2", clientCodec);
    // With many streams in flight, one read of one connection ends many streams of the other: the flushes of one
    // read (or loop turn) leave as one writev, not one per stream (55 % of the agent's CPU under unmatched gRPC load
    // was writev without it: docs/PERFORMANCE.md, 2026-12-06 04:10). So on each upstream connection too.
    pipeline.addBefore("h2", "h2-flush", ProtocolPipeline.flushConsolidation());
    pipeline.addBefore(before, "h2-streams", new ClientFrames());
    // The connection's window beyond HTTP/2's 64 KiB default: a paused stream must not stall the others at once.
    client.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
  }

  private static Http2Settings settings() {
    return Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).maxHeaderListSize(MAX_HEADER_LIST);
  }

  /**
   * An exception from the client connection's pipeline; whether it was an HTTP/2 protocol error,
   * which Netty answers by itself: a connection error (GOAWAY, then close) is logged once per
   * connection, a stream error (RST_STREAM of that stream) at debug level.
   */
  boolean protocolError(Throwable cause) {
    if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
      return false;
    }
    if (cause instanceof Http2FrameStreamException e) { // one stream's error: Netty reset that stream, the rest go on
      logger.debug("connection {}: stream {}: {}", FilteredConnection.hex(connectionId), e.stream().id(),
          cause.getMessage());
      return true;
    }
    if (!errorLogged) {
      errorLogged = true;
      logger.info("connection {} from {} on port {}: HTTP/2 protocol error ({}); Netty closes it with GOAWAY",
          FilteredConnection.hex(connectionId), client.remoteAddress(), port.port, cause.getMessage());
    }
    return true;
  }

  /** The client connection is gone: so are its streams and the upstream connections. */
  void closed() {
    closed = true;
    clientStreamsGone();
    waiting.clear();
    upstream = null;
    upstreamReady = false;
    upstreams.forEach(Channel::close);
    upstreams.clear();
  }

  private void clientStreamsGone() {
    if (routes.isEmpty()) {
      return;
    }
    List<Route> gone = new ArrayList<>(routes.values());
    routes.clear();
    gone.forEach(Route::clientGone);
  }

  // ---------------------------------------------------------------- the client's streams

  /** Where a client stream's frames go once its headers are matched. */
  private interface Route {
    /** A frame of the client's stream (owned). */
    void fromClient(Http2StreamFrame frame);

    /** The client stream's window (or the client's socket) changed. */
    void clientWritabilityChanged();

    /** The client stream closed (both ends done, reset, or the connection went). */
    void clientGone();
  }

  /** Whether a stream of the client connection is still open (frames can be written on it). */
  private boolean clientOpen(Http2FrameStream cs) {
    return client.isActive() && cs.state() != Http2Stream.State.CLOSED;
  }

  /** Whether the client's stream (its window and the socket) can take more. */
  private boolean clientWritable(Http2FrameStream cs) {
    Http2Stream s = clientCodec.connection().stream(cs.id());
    return s != null && client.isWritable() && clientCodec.connection().remote().flowController().isWritable(s);
  }

  /**
   * The handler after the client's codec: a stream's first HEADERS picks its route, its later
   * frames and events follow it; the connection's own frames and events go on.
   */
  private final class ClientFrames extends ChannelDuplexHandler {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof Http2StreamFrame f) || f.stream() == null) {
        ctx.fireChannelRead(msg);
        return;
      }
      Route r = routes.get(f.stream());
      if (r != null) {
        r.fromClient(f);
      } else if (f instanceof Http2HeadersFrame h) {
        try {
          r = route(h);
        } finally {
          ReferenceCountUtil.release(h);
        }
        if (f.stream().state() != Http2Stream.State.CLOSED) {
          routes.put(f.stream(), r);
        } else {
          r.clientGone();
        }
      } else {
        // a stream whose route ended (or a frame before its HEADERS): its bytes still count in the windows
        if (f instanceof Http2DataFrame d && d.initialFlowControlledBytes() > 0
            && f.stream().state() != Http2Stream.State.CLOSED) {
          ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(f.stream()));
        }
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      for (Channel up : upstreams) {
        UpstreamConnection u = up.pipeline().get(UpstreamConnection.class);
        if (u != null && u.dirty) {
          u.dirty = false;
          up.flush();
        }
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (!streamEvent(evt, routes, Route::clientWritabilityChanged, Route::clientGone)) {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      // the codec's writability events cover each stream's window; this covers the socket
      new ArrayList<>(routes.values()).forEach(Route::clientWritabilityChanged);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      clientStreamsGone(); // those the codec did not close
      ctx.fireChannelInactive();
    }
  }

  private Route route(Http2HeadersFrame head) {
    FilteredPort.Match match = port.handedBack ? null : port.match(MirrorHttpFilter.view(head.headers()));
    if (match != null && !match.alsoMatched().isEmpty() && !multiMatchLogged) {
      multiMatchLogged = true;
      logger.info("HTTP/2 {} {} on port {} matches the filters of {} and {}; {} takes it (first match)",
          head.headers().method(), head.headers().path(), port.port, match.client().name(),
          String.join(", ", match.alsoMatched().stream().map(StealClient::name).toList()), match.client().name());
    }
    if (match == null) {
      PassStream p = new PassStream(head.stream());
      p.start(head);
      return p;
    }
    StolenStream s = new StolenStream(stealer.newId(), match.client(), head.stream());
    s.start(head);
    return s;
  }

  // ---------------------------------------------------------------- matched: the session answers

  /** A matched stream: the session's under {@link #streamId}. */
  private final class StolenStream implements Route, StolenFlow {
    final long streamId;
    final StealClient owner;
    /** The client's stream. */
    final Http2FrameStream cs;
    /** Bytes of the client's DATA sent on to the session but not yet given back to the client's window. */
    int owed;
    boolean done;
    boolean requestEnded;
    boolean finalHead;
    boolean pausedByOwner;
    boolean pausedOwner;

    StolenStream(long streamId, StealClient owner, Http2FrameStream cs) {
      this.streamId = streamId;
      this.owner = owner;
      this.cs = cs;
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
      return client.eventLoop();
    }

    // client → session

    @Override
    public void fromClient(Http2StreamFrame frame) {
      try {
        if (frame instanceof Http2DataFrame d) {
          owed += d.initialFlowControlledBytes(); // given back even when dropped: the windows count it
        }
        if (frame instanceof Http2ResetFrame) {
          if (!done) {
            abort(); // the client cancelled (gRPC: a cancelled call)
          }
        } else if (!done && !requestEnded) { // else the answer is complete (or abandoned): the rest is dropped
          if (frame instanceof Http2DataFrame d) {
            if (d.content().isReadable()) {
              owner.sendData(streamId, d.content().retain());
            }
            if (d.isEndStream()) {
              endRequest(List.of());
            }
          } else if (frame instanceof Http2HeadersFrame trailers) {
            endRequest(Http.Header.listOf(trailers.headers().iterator()));
          }
        }
        giveBack();
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    private void endRequest(List<Http.Header> trailers) {
      requestEnded = true;
      owner.send(new Http.BodyEnd(streamId, trailers));
    }

    /**
     * Gives the client's DATA back to its window while the session's connection can take more and
     * the session has not paused the stream; written now, it leaves with the connection's next flush.
     */
    private boolean giveBack() {
      if (owed > 0 && (done || requestEnded || (owner.writable() && !pausedByOwner)) && clientOpen(cs)) {
        client.write(new DefaultHttp2WindowUpdateFrame(owed).stream(cs));
        owed = 0;
        return true;
      }
      return false;
    }

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
      if (giveBack()) {
        client.flush();
      }
    }

    /** Pauses the session's answer while the client's window (or socket) cannot take it. */
    private void updateFlow() {
      boolean pause = !done && clientOpen(cs) && !clientWritable(cs);
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
      if (done || !clientOpen(cs)) {
        DataFrame.discard(message);
        return;
      }
      if (message instanceof Http.Response r) {
        Http2Headers headers = new DefaultHttp2Headers(false).status(Integer.toString(r.status()));
        addAll(headers, r.headers());
        finalHead = r.status() >= 200;
        client.write(new DefaultHttp2HeadersFrame(headers, r.endOfStream()).stream(cs));
        if (r.endOfStream()) {
          finish();
        }
      } else if (DataFrame.isData(message)) {
        ByteBuf bytes = DataFrame.bytesOf(message);
        if (finalHead) {
          client.write(new DefaultHttp2DataFrame(bytes, false).stream(cs));
        } else {
          bytes.release(); // no body before the head (or after an informational one)
        }
      } else if (message instanceof Http.BodyEnd end) {
        if (!finalHead) {
          return; // the end of an informational answer
        }
        if (end.trailers().isEmpty()) {
          client.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true).stream(cs));
        } else {
          Http2Headers trailers = new DefaultHttp2Headers(false);
          addAll(trailers, end.trailers());
          client.write(new DefaultHttp2HeadersFrame(trailers, true).stream(cs));
        }
        finish();
      } else if (message instanceof Tcp.Close close) {
        failed(close.reset());
      } else {
        DataFrame.discard(message);
        return;
      }
      // once per batch of the session's messages: headers, data and trailers in one write
      dev.mirrord.jvm.protocol.relay.ReadBatch.flush(client);
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
        client.write(new DefaultHttp2HeadersFrame(headers, false).stream(cs));
        client.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true).stream(cs));
      } else {
        client.write(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(cs));
      }
      finish();
    }

    @Override
    public void ownerWritabilityChanged() {
      updateRead();
    }

    @Override
    public void ownerGone() {
      if (!done && clientOpen(cs)) {
        failed(true);
        client.flush();
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

  /** An unmatched stream, relayed frame by frame to a stream of an upstream connection. */
  private final class PassStream implements Route {
    /** The client's stream. */
    final Http2FrameStream cs;
    /** The upstream connection and stream; null before {@link #attach}. */
    UpstreamConnection up;
    Http2FrameStream us;
    /** Frames from the client before the upstream stream was open. */
    final ArrayDeque<Http2StreamFrame> pending = new ArrayDeque<>();
    /** The client's DATA bytes relayed (or queued) but not yet given back to the client's window. */
    int owedClient;
    /** The upstream's DATA bytes relayed but not yet given back to the upstream's window. */
    int owedUpstream;
    boolean failed;
    /** The upstream's answer ended (end of stream or reset): nothing more to relay to the client. */
    boolean upstreamEnded;

    PassStream(Http2FrameStream cs) {
      this.cs = cs;
    }

    void start(Http2HeadersFrame head) {
      pending.add(copy(head));
      openUpstream(this);
    }

    @Override
    public void fromClient(Http2StreamFrame frame) {
      try {
        if (frame instanceof Http2DataFrame d) {
          owedClient += d.initialFlowControlledBytes();
        }
        Http2StreamFrame copy = failed ? null : copy(frame);
        if (copy != null) {
          if (us != null) {
            up.write(copy.stream(us));
          } else {
            pending.add(copy);
          }
        }
        giveBackClient();
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    /** Gives the client's bytes back once they went on and the upstream stream can take more (or the stream failed). */
    private boolean giveBackClient() {
      if (owedClient > 0 && (failed || (us != null && up.writable(us))) && clientOpen(cs)) {
        client.write(new DefaultHttp2WindowUpdateFrame(owedClient).stream(cs));
        owedClient = 0;
        return true;
      }
      return false;
    }

    /** Gives the upstream's bytes back once they went on and the client's stream can take more. */
    private boolean giveBackUpstream() {
      if (owedUpstream > 0 && us != null && us.state() != Http2Stream.State.CLOSED
          && (!clientOpen(cs) || clientWritable(cs))) {
        up.channel.write(new DefaultHttp2WindowUpdateFrame(owedUpstream).stream(us));
        owedUpstream = 0;
        return true;
      }
      return false;
    }

    void attach(UpstreamConnection up, Http2FrameStream us) {
      this.up = up;
      if (failed || !clientOpen(cs)) {
        releasePending();
        return; // nothing was written on the upstream stream
      }
      this.us = us;
      up.streams.put(us, this);
      Http2StreamFrame head = pending.poll();
      up.channel.write(head.stream(us)).addListener(f -> {
        if (!f.isSuccess()) { // the upstream connection went, or its GOAWAY refused the stream before it left
          logger.debug("connection {}: cannot open an upstream stream: {}", FilteredConnection.hex(connectionId),
              f.cause().toString());
          upstreamFailed(true);
        }
      });
      Http2StreamFrame f;
      while ((f = pending.poll()) != null) {
        up.channel.write(f.stream(us));
      }
      up.channel.flush();
      if (giveBackClient()) {
        client.flush();
      }
    }

    @Override
    public void clientWritabilityChanged() {
      if (giveBackUpstream()) {
        up.channel.flush();
      }
    }

    /** The upstream stream's window (or socket) changed. */
    void upstreamWritabilityChanged() {
      if (giveBackClient()) {
        client.flush();
      }
    }

    @Override
    public void clientGone() {
      releasePending();
      failed = true;
      if (us != null && us.state() != Http2Stream.State.CLOSED) { // also a stream waiting for a slot: it is dropped
        up.channel.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(us));
      }
    }

    /** A frame of the upstream's answer on this stream (owned). */
    void fromUpstream(Http2StreamFrame frame) {
      try {
        if (frame instanceof Http2DataFrame d) {
          owedUpstream += d.initialFlowControlledBytes();
        }
        Http2StreamFrame copy = copy(frame);
        if (copy != null) {
          if (isEnd(copy)) {
            upstreamEnded = true;
          }
          if (clientOpen(cs)) {
            client.write(copy.stream(cs));
            up.clientWritten = true;
          } else {
            ReferenceCountUtil.release(copy);
          }
        }
        giveBackUpstream();
      } finally {
        ReferenceCountUtil.release(frame);
      }
    }

    /** The upstream stream closed: if its answer did not end, neither can the client's. */
    void upstreamInactive() {
      if (!upstreamEnded && clientOpen(cs)) {
        upstreamEnded = true;
        client.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(cs));
      }
    }

    /** No upstream stream could be opened: {@code refused} when the request never left the agent. */
    void upstreamFailed(boolean refused) {
      failed = true;
      releasePending();
      if (!upstreamEnded && clientOpen(cs)) {
        upstreamEnded = true;
        client.writeAndFlush(
            new DefaultHttp2ResetFrame(refused ? Http2Error.REFUSED_STREAM : Http2Error.INTERNAL_ERROR).stream(cs));
      }
    }

    private void releasePending() {
      pending.forEach(ReferenceCountUtil::release);
      pending.clear();
    }
  }

  /**
   * A codec's stream event for one of {@code streams}: its window or socket changed ({@code
   * writability}), or it closed (removed, then {@code closed}); events of other streams are
   * dropped. False if {@code evt} is no stream event (the caller passes it on).
   */
  private static <T> boolean streamEvent(
      Object evt, Map<Http2FrameStream, T> streams, Consumer<T> writability, Consumer<T> closed) {
    if (!(evt instanceof Http2FrameStreamEvent e)) {
      return false;
    }
    T s = streams.get(e.stream());
    if (s != null && e.type() == Http2FrameStreamEvent.Type.Writability) {
      writability.accept(s);
    } else if (s != null && e.stream().state() == Http2Stream.State.CLOSED) {
      streams.remove(e.stream());
      closed.accept(s);
    }
    return true;
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
    UpstreamConnection u = upstream.pipeline().get(UpstreamConnection.class);
    if (u == null) { // the connection closed under the stream
      s.upstreamFailed(true);
      return;
    }
    s.attach(u, u.newStream());
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
            ch.pipeline().addLast("h2-streams", new UpstreamConnection(ch));
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

  /**
   * The handler of one upstream connection, after its codec: opens its streams, and hands the
   * server's frames and stream events to their {@link PassStream}.
   */
  private final class UpstreamConnection extends Http2ChannelDuplexHandler {
    final Channel channel;
    final Map<Http2FrameStream, PassStream> streams = new IdentityHashMap<>();
    Http2FrameCodec codec;
    /** Written to during the client's read: flushed at its end. */
    boolean dirty;
    /** Wrote to the client during this connection's read: the client is flushed at its end. */
    boolean clientWritten;

    UpstreamConnection(Channel channel) {
      this.channel = channel;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
      codec = ctx.pipeline().get(Http2FrameCodec.class);
    }

    void write(Http2StreamFrame frame) {
      channel.write(frame);
      dirty = true;
    }

    /** Whether the upstream stream (its window and the socket) can take more; the socket alone before it opens. */
    boolean writable(Http2FrameStream us) {
      Http2Stream s = codec.connection().stream(us.id());
      // a stream that waits for one of the server's concurrent-stream slots is not in the connection yet
      return s == null ? channel.isWritable() : channel.isWritable()
          && codec.connection().remote().flowController().isWritable(s);
    }

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
      if (msg instanceof Http2StreamFrame f && f.stream() != null) {
        PassStream s = streams.get(f.stream());
        if (s != null) {
          s.fromUpstream(f);
          return;
        }
        if (f instanceof Http2DataFrame d && d.initialFlowControlledBytes() > 0
            && f.stream().state() != Http2Stream.State.CLOSED) {
          uctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(f.stream()));
        }
      } else if (msg instanceof Http2GoAwayFrame) {
        upstreamGone(uctx.channel()); // its open streams finish on it; new ones go to a new connection
      }
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext uctx) {
      if (clientWritten) {
        clientWritten = false;
        client.flush();
      }
      uctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext uctx, Object evt) {
      if (!streamEvent(evt, streams, PassStream::upstreamWritabilityChanged, PassStream::upstreamInactive)) {
        uctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext uctx) {
      new ArrayList<>(streams.values()).forEach(PassStream::upstreamWritabilityChanged);
      uctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext uctx) {
      upstreams.remove(uctx.channel());
      upstreamGone(uctx.channel());
      // streams the codec did not close (they waited for a slot of the server's concurrent streams) end here too
      List<PassStream> gone = new ArrayList<>(streams.values());
      streams.clear();
      gone.forEach(PassStream::upstreamInactive);
      if (clientWritten) {
        clientWritten = false;
        client.flush();
      }
      uctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
      logger.debug("upstream h2c connection of {}: {}", FilteredConnection.hex(connectionId), cause.toString());
      if (!(cause instanceof Http2FrameStreamException) && Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
        uctx.close();
      }
    }
  }
}
