package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.relay.EventLoops;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's side of HTTP-filtered steal for HTTP/2 ({@code Http.Request} version 20: the client
 * spoke h2c, e.g. gRPC): each matched stream is replayed to the app as a stream of an h2c (prior
 * knowledge) connection, one connection per client connection of the target, so the app (a plain
 * gRPC or h2c server) sees the client's streams multiplexed as the client made them. Request
 * headers (pseudo-headers first), DATA and trailers go to the app; its response headers, DATA and
 * trailers (gRPC's {@code grpc-status}) come back as {@code Http.Response} + {@code Tcp.Data} +
 * {@code Http.BodyEnd}; a reset either way is {@code Tcp.Close(streamId, true)}. The streams are
 * frames of the connection's own channel ({@link Http2FrameCodec}), not a channel each: a call
 * costs no pipeline, promise chain or flush of its own. Back-pressure: the app's DATA is given back
 * to its stream window only while the agent's connection is writable and the agent has not paused
 * the stream (so a paused stream's app sends at most one window more); the agent's body is paused
 * ({@code Tcp.Flow}) while the app's stream window (or socket) cannot take it. Everything of one
 * app connection runs on its event loop.
 */
final class H2Gateway {
  private static final Logger logger = LoggerFactory.getLogger(H2Gateway.class);

  /** The windows the CLI gives the app: per stream, and for the connection. */
  static final int STREAM_WINDOW = 1024 * 1024;

  static final int CONNECTION_WINDOW = 16 * 1024 * 1024;

  private final EventLoopGroup group;
  private final Transport transport;
  private final IntUnaryOperator localPortFor;
  /** How the gateway reaches the app (see {@link HttpGateway}). */
  private final AppDialer dialer;
  private final AgentLink agent;
  private final HttpGateway.Ports ports;
  private final Map<Long, AppConnection> connections = new ConcurrentHashMap<>();
  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();

  H2Gateway(
      EventLoopGroup group, IntUnaryOperator localPortFor, AppDialer dialer, AgentLink agent, HttpGateway.Ports ports) {
    this.group = group;
    this.dialer = dialer;
    this.transport = Transport.of(group);
    this.localPortFor = localPortFor;
    this.agent = agent;
    this.ports = ports;
  }

  boolean owns(long id) {
    return streams.containsKey(id) || connections.containsKey(id);
  }

  /** A matched HTTP/2 request: a new stream on its client connection's app connection. */
  void request(Http.Request r) {
    AppConnection c = connections.computeIfAbsent(r.connectionId(), id -> new AppConnection(id, r));
    Stream s = new Stream(r, c);
    streams.put(r.streamId(), s);
    EventLoops.run(c.loop, () -> c.add(s));
  }

  /** As {@link HttpGateway#fromAgent}; false (nothing taken) if the id is not one of ours. */
  boolean fromAgent(Object msg) {
    long id = msg instanceof Http.BodyEnd e ? e.streamId() : DataFrame.connectionIdOf(msg);
    Stream s = streams.get(id);
    if (s != null) {
      EventLoops.run(s.conn.loop, () -> s.fromAgent(msg));
      return true;
    }
    AppConnection c = connections.get(id);
    if (c != null) {
      DataFrame.discard(msg);
      if (msg instanceof Tcp.Close) {
        EventLoops.run(c.loop, c::close);
      }
      return true;
    }
    return false;
  }

  void agentWritabilityChanged() {
    for (AppConnection c : connections.values()) {
      EventLoops.run(c.loop, c::updateReads);
    }
  }

  void agentLost() {
    for (AppConnection c : new ArrayList<>(connections.values())) {
      EventLoops.run(c.loop, c::close);
    }
  }

  private static Http2Settings settings() {
    return Http2Settings.defaultSettings().initialWindowSize(STREAM_WINDOW).pushEnabled(false)
        .maxHeaderListSize(64 * 1024);
  }

  /** The app's h2c connection standing for one client connection of the target. */
  private final class AppConnection {
    final long connectionId;
    final Http.Request first;
    final EventLoop loop = group.next();
    /** The connection new streams open on; null before the first, or after the app's GOAWAY. */
    Channel channel;
    boolean ready;
    /** Every app connection made (one that sent GOAWAY keeps serving its streams). */
    final List<Channel> channels = new ArrayList<>();
    final ArrayDeque<Stream> waiting = new ArrayDeque<>();
    final Set<Stream> open = new java.util.HashSet<>();
    /** The open streams by their frame stream on the app connection (the key of the app's frames). */
    final Map<Http2FrameStream, Stream> byFrameStream = new IdentityHashMap<>();
    boolean closed;

    AppConnection(long connectionId, Http.Request first) {
      this.connectionId = connectionId;
      this.first = first;
    }

    void add(Stream s) {
      if (closed) {
        s.fail();
        return;
      }
      open.add(s);
      if (channel == null) {
        connect();
      }
      if (ready) {
        s.open(channel);
      } else {
        waiting.add(s);
      }
    }

    private void connect() {
      ready = false;
      LayerPeers layer = ports.layerFor(first.targetPort());
      int localPort = localPortFor.applyAsInt(first.targetPort());
      Bootstrap b = new Bootstrap()
          .group(loop)
          .channel(transport.socketChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
          .handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              ch.pipeline().addLast("h2", Http2FrameCodecBuilder.forClient().initialSettings(settings())
                  .encoderEnforceMaxConcurrentStreams(true) // the app's limit: streams wait for a slot
                  .build());
              ch.pipeline().addLast("app", new AppChannel(AppConnection.this));
            }
          });
      List<Channel> tries = new ArrayList<>(1);
      dialer.dial(localPort, layer, first.sourceAddress(), first.sourcePort(), source -> {
        ChannelFuture bound = b.bind(source);
        Channel ch = bound.channel();
        channels.removeAll(tries); // an earlier try of this dial (refused, closed)
        tries.clear();
        tries.add(ch);
        channel = ch;
        channels.add(ch);
        return bound;
      }, (ch, cliPort, failure) -> {
        if (failure != null) {
          failed(ch, localPort, failure);
          return;
        }
        if (layer != null) {
          ch.closeFuture().addListener(f -> layer.deliver(Tcp.IncomingPeer.forget(cliPort)));
        }
      });
    }

    private void failed(Channel ch, int localPort, Throwable cause) {
      logger.warn("cannot reach the app on local port {} for a matched HTTP/2 request from {}:{}: {}", localPort,
          first.sourceAddress(), first.sourcePort(), cause.getMessage());
      ch.close();
      noNewStreams(ch);
    }

    /** {@code ch} takes no new streams: the waiting ones fail (the agent answers 502). */
    private void noNewStreams(Channel ch) {
      if (ch != channel) {
        return;
      }
      channel = null;
      ready = false;
      Stream s;
      while ((s = waiting.poll()) != null) {
        s.fail();
      }
    }

    void channelActive(ChannelHandlerContext ctx) {
      if (ctx.channel() != channel) {
        return;
      }
      ready = true;
      ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
      Stream s;
      while ((s = waiting.poll()) != null) {
        s.open(channel);
      }
    }

    void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2StreamFrame f && f.stream() != null) {
          Stream s = byFrameStream.get(f.stream());
          if (s != null) {
            s.fromApp(f);
          } else if (f instanceof Http2DataFrame d) {
            // A stream that ended on our side: its bytes still count in the connection's window.
            ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
          }
        } else if (msg instanceof Http2GoAwayFrame) {
          noNewStreams(ctx.channel()); // its streams finish; the next ones get a new connection
          if (channel == null && !waiting.isEmpty()) {
            connect();
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2FrameStreamEvent e) {
        Stream s = byFrameStream.get(e.stream());
        if (s == null) {
          return;
        }
        if (e.type() == Http2FrameStreamEvent.Type.Writability) {
          s.updateFlow();
        } else if (e.stream().state() == Http2Stream.State.CLOSED) {
          s.closedByApp();
        }
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    void channelWritabilityChanged(ChannelHandlerContext ctx) {
      // The streams hear of the socket through the codec's writability events; this covers those not yet open there.
      for (Stream s : new ArrayList<>(open)) {
        if (s.ch == ctx.channel()) {
          s.updateFlow();
        }
      }
      ctx.fireChannelWritabilityChanged();
    }

    void channelInactive(ChannelHandlerContext ctx) {
      channels.remove(ctx.channel());
      noNewStreams(ctx.channel());
      // Streams the codec did not close (they waited for a slot of the app's concurrent streams) end here too.
      for (Stream s : new ArrayList<>(open)) {
        if (s.ch == ctx.channel()) {
          s.closedByApp();
        }
      }
    }

    void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("h2c app connection for client connection {}: {}", connectionId, cause.toString());
      if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
        ctx.close();
      }
    }

    void updateReads() {
      open.forEach(Stream::updateRead);
    }

    void close() {
      closed = true;
      connections.remove(connectionId, this);
      for (Stream s : new ArrayList<>(open)) {
        s.end();
      }
      waiting.clear();
      channels.forEach(Channel::close);
      channels.clear();
      channel = null;
    }
  }

  /**
   * The handler of one app connection's channel (after the app's GOAWAY, an app connection has
   * several): hands the channel's events to its {@link AppConnection}, and opens its streams.
   */
  private static final class AppChannel extends Http2ChannelDuplexHandler {
    private final AppConnection conn;

    AppChannel(AppConnection conn) {
      this.conn = conn;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      conn.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      conn.channelRead(ctx, msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      conn.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      conn.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      conn.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      conn.exceptionCaught(ctx, cause);
    }
  }

  /**
   * One matched stream, replayed on a stream of the app connection: frames written with its
   * {@link Http2FrameStream} on the connection's channel, and the app's frames for it handed over
   * by {@link AppConnection#channelRead}. Confined to its connection's loop.
   */
  private final class Stream {
    final Http.Request req;
    final AppConnection conn;
    /** The app connection the stream is open on, and its codec; null before {@link #open}. */
    Channel ch;
    Http2FrameCodec codec;
    Http2FrameStream frameStream;
    /** Request body parts ({@link ByteBuf}s, then the {@code BodyEnd}) that came before the stream was open. */
    final ArrayDeque<Object> waiting = new ArrayDeque<>();
    long waitingBytes;
    /** Bytes of the app's DATA sent on to the agent but not yet given back to the app's window (while paused). */
    int owed;
    boolean requestEnded;
    boolean finalHead;
    boolean done;
    boolean pausedAgent;
    boolean pausedByAgent;

    Stream(Http.Request req, AppConnection conn) {
      this.req = req;
      this.conn = conn;
      this.requestEnded = req.endOfStream();
    }

    long id() {
      return req.streamId();
    }

    /** Opens the stream on {@code parent}: the request's headers and what of its body came already, in one write. */
    void open(Channel parent) {
      if (done) {
        return;
      }
      Http2FrameCodec c = parent.pipeline().get(Http2FrameCodec.class);
      AppChannel handler = parent.pipeline().get(AppChannel.class);
      if (c == null || handler == null) { // the connection closed under the stream
        fail();
        return;
      }
      ch = parent;
      codec = c;
      frameStream = handler.newStream();
      conn.byFrameStream.put(frameStream, this);
      Http2Headers headers = new DefaultHttp2Headers(false);
      for (Http.Header h : req.headers()) {
        headers.add(h.name().toLowerCase(Locale.ROOT), h.value());
      }
      ch.write(new DefaultHttp2HeadersFrame(headers, req.endOfStream()).stream(frameStream)).addListener(f -> {
        if (!f.isSuccess()) {
          logger.debug("cannot open a stream to the app: {}", f.cause().toString());
          fail();
        }
      });
      Object part;
      while ((part = waiting.poll()) != null) {
        writeBody(part);
      }
      waitingBytes = 0;
      flush();
      updateFlow();
    }

    void fromAgent(Object msg) {
      if (done) {
        DataFrame.discard(msg);
        return;
      }
      if (DataFrame.isData(msg)) {
        ByteBuf bytes = DataFrame.bytesOf(msg);
        if (ch != null) {
          writeBody(bytes);
          flush();
        } else {
          waiting.add(bytes);
          waitingBytes += bytes.readableBytes();
        }
        updateFlow();
      } else if (msg instanceof Http.BodyEnd end) {
        requestEnded = true;
        if (ch != null) {
          writeBody(end);
          flush();
        } else {
          waiting.add(end);
        }
      } else if (msg instanceof Tcp.Flow f) {
        pausedByAgent = f.paused();
        updateRead();
      } else if (msg instanceof Tcp.Close) {
        // The client reset the stream, or went: so does the app's stream.
        end();
        if (ch != null) {
          ch.write(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(frameStream));
          flush();
        }
      } else {
        DataFrame.discard(msg);
      }
    }

    private void writeBody(Object part) {
      if (part instanceof ByteBuf b) {
        ch.write(new DefaultHttp2DataFrame(b, false).stream(frameStream));
      } else if (part instanceof Http.BodyEnd end && end.trailers().isEmpty()) {
        ch.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true).stream(frameStream));
      } else if (part instanceof Http.BodyEnd end) {
        Http2Headers trailers = new DefaultHttp2Headers(false);
        end.trailers().forEach(t -> trailers.add(t.name().toLowerCase(Locale.ROOT), t.value()));
        ch.write(new DefaultHttp2HeadersFrame(trailers, true).stream(frameStream));
      }
    }

    /** Now, or once at the end of the agent's read batch (headers, data and end in one write). */
    private void flush() {
      ReadBatch.flush(ch);
    }

    /** A frame of the app's answer on this stream (released by the caller). */
    void fromApp(Http2StreamFrame msg) {
      if (msg instanceof Http2DataFrame d) {
        owed += d.initialFlowControlledBytes(); // given back even after the end: the connection's window counts it
      }
      if (done) {
        giveBack();
        return;
      }
      if (msg instanceof Http2HeadersFrame h && !finalHead) {
        int status = parseStatus(h.headers());
        finalHead = status >= 200;
        agent.send(new Http.Response(id(), Http.HTTP_2, status, "", fields(h.headers()), h.isEndStream()));
        if (h.isEndStream()) {
          end();
        }
      } else if (msg instanceof Http2HeadersFrame trailers) {
        agent.send(new Http.BodyEnd(id(), fields(trailers.headers())));
        end();
      } else if (msg instanceof Http2DataFrame d) {
        if (d.content().isReadable()) {
          agent.sendData(id(), d.content().retain());
        }
        if (d.isEndStream()) {
          agent.send(new Http.BodyEnd(id(), List.of()));
          end();
        }
        giveBack();
      } else if (msg instanceof Http2ResetFrame) {
        agent.send(new Tcp.Close(id(), true));
        end();
      }
    }

    /** The codec closed the stream (the app's connection went, its GOAWAY, a failed write) before its end. */
    void closedByApp() {
      fail();
    }

    /**
     * Gives the app's DATA bytes back to its stream (and connection) window while the agent's
     * connection can take more and the agent has not paused the stream: a paused stream's app can
     * send at most its window more (what a stream's channel buffered before, when it stopped
     * reading). The window update leaves with the connection's next flush.
     */
    private void giveBack() {
      if (owed > 0 && (done || (agent.writable() && !pausedByAgent)) && ch != null && ch.isActive()) {
        ch.write(new DefaultHttp2WindowUpdateFrame(owed).stream(frameStream));
        owed = 0;
      }
    }

    /** The agent's connection or the agent's pause changed: give back what was held, now. */
    void updateRead() {
      if (owed > 0 && ch != null) {
        giveBack();
        ch.flush();
      }
    }

    /** Pauses the agent's body while it waits for the stream past the limit, or the app's window is full. */
    void updateFlow() {
      boolean pause = !done && !requestEnded && (waitingBytes > HttpGateway.MAX_WAITING_BODY || !writable());
      if (pause != pausedAgent) {
        pausedAgent = pause;
        agent.send(new Tcp.Flow(id(), pause));
      }
    }

    /** Whether the app's stream (its window and the connection's socket) can take more; true before it opens. */
    private boolean writable() {
      if (ch == null) {
        return true;
      }
      Http2Stream s = codec.connection().stream(frameStream.id());
      // A stream that waits for one of the app's concurrent-stream slots is not in the connection yet.
      return s == null ? ch.isWritable() : codec.connection().remote().flowController().isWritable(s);
    }

    /** Nothing more travels on this stream. */
    void end() {
      done = true;
      streams.remove(id(), this);
      conn.open.remove(this);
      if (frameStream != null) {
        conn.byFrameStream.remove(frameStream);
        giveBack();
      }
      waiting.forEach(ReferenceCountUtil::release);
      waiting.clear();
      waitingBytes = 0;
    }

    /** No stream to the app could be had, or it went before its end: the agent answers the client 502 or resets. */
    void fail() {
      if (!done) {
        agent.send(new Tcp.Close(id(), true));
        end();
      }
    }
  }

  private static int parseStatus(Http2Headers headers) {
    try {
      return Integer.parseInt(String.valueOf(headers.status()));
    } catch (NumberFormatException e) {
      return 502;
    }
  }

  /** The headers without pseudo-headers ({@code :status} travels as the status). */
  private static List<Http.Header> fields(Http2Headers headers) {
    List<Http.Header> out = new ArrayList<>(headers.size());
    for (Map.Entry<CharSequence, CharSequence> h : headers) {
      if (!Http2Headers.PseudoHeaderName.hasPseudoHeaderFormat(h.getKey())) {
        out.add(new Http.Header(h.getKey().toString(), h.getValue().toString()));
      }
    }
    return out;
  }
}
