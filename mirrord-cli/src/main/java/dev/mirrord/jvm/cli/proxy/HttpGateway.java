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
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's side of HTTP-filtered steal (mirrord's intproxy {@code http_gateway}): each matched
 * request ({@code Http.Request} + {@code Tcp.Data} + {@code Http.BodyEnd}) is replayed to the app
 * on an ordinary local connection, and the app's answer goes back as {@code Http.Response} +
 * {@code Tcp.Data} + {@code Http.BodyEnd}. One app connection per client connection of the
 * target (the app sees the client's keep-alive as the client made it, and its real address through
 * the layer's {@code IncomingPeer}); requests on it one after another, each written once the
 * previous answer is complete. Back-pressure per stream both ways ({@code Tcp.Flow}). Everything
 * runs on the proxy's one event loop. HTTP/2 requests (h2c, gRPC) go to {@link H2Gateway}.
 */
final class HttpGateway {
  private static final Logger logger = LoggerFactory.getLogger(HttpGateway.class);

  /** Request body bytes kept for a request that waits its turn, past which the agent is paused. */
  static final int MAX_WAITING_BODY = 1024 * 1024;

  /** The methods a request of which is sent again after the app closed the connection it reached (RFC 9110 9.2.2). */
  private static final java.util.Set<String> IDEMPOTENT =
      java.util.Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  private static final HttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  /** Where a matched request's app connection gets its port and its layer. */
  interface Ports {
    /** The layer that subscribed {@code targetPort}, or null. */
    LayerPeers layerFor(int targetPort);
  }

  private final EventLoopGroup group;
  private final Transport transport;
  private final IntUnaryOperator localPortFor;
  /** How the gateway reaches the app: from the session's relay source, so the app sees the real client as the peer. */
  private final AppDialer dialer;
  private final AgentLink agent;
  private final Ports ports;
  private final Map<Long, AppConnection> connections = new ConcurrentHashMap<>();
  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> matched = new ConcurrentHashMap<>();
  private final Map<Integer, Long> reported = new ConcurrentHashMap<>();
  /** Matched HTTP/2 (h2c) requests: replayed over h2c. */
  private final H2Gateway h2;

  HttpGateway(EventLoopGroup group, IntUnaryOperator localPortFor, AppDialer dialer, AgentLink agent, Ports ports) {
    this.group = group;
    this.dialer = dialer;
    this.transport = Transport.of(group);
    this.localPortFor = localPortFor;
    this.agent = agent;
    this.ports = ports;
    this.h2 = new H2Gateway(group, localPortFor, dialer, agent, ports);
    group.scheduleAtFixedRate(this::logCounts, 10, 10, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Whether {@code id} is one of the gateway's streams or client connections. */
  boolean owns(long id) {
    return streams.containsKey(id) || connections.containsKey(id) || h2.owns(id);
  }

  void request(Http.Request r) {
    matched.computeIfAbsent(r.targetPort(), p -> new AtomicLong()).incrementAndGet();
    if (r.version() == Http.HTTP_2) {
      h2.request(r);
      return;
    }
    AppConnection c = connections.computeIfAbsent(r.connectionId(), id -> new AppConnection(id, r));
    Stream s = new Stream(r, c);
    streams.put(r.streamId(), s);
    EventLoops.run(c.loop(), () -> c.add(s));
  }

  /**
   * A stream message for a matched request ({@code Tcp.Data} as a record or {@link DataFrame},
   * {@code Http.BodyEnd}, {@code Tcp.Flow}, {@code Tcp.Close}) or {@code Tcp.Close} of a client
   * connection; false (nothing taken) if the id is not the gateway's.
   */
  boolean fromAgent(Object msg) {
    if (h2.fromAgent(msg)) {
      return true;
    }
    long id = msg instanceof Http.BodyEnd e ? e.streamId() : DataFrame.connectionIdOf(msg);
    Stream s = streams.get(id);
    if (s != null) {
      EventLoops.run(s.conn.loop(), () -> s.fromAgent(msg));
      return true;
    }
    AppConnection c = connections.get(id);
    if (c != null) {
      DataFrame.discard(msg);
      if (msg instanceof Tcp.Close) {
        EventLoops.run(c.loop(), c::clientClosed);
      }
      return true;
    }
    return false;
  }

  /** The agent's connection became (un)writable: pause or resume reading the app's answers. */
  void agentWritabilityChanged() {
    h2.agentWritabilityChanged();
    for (AppConnection c : connections.values()) {
      EventLoops.run(c.loop(), c::updateRead);
    }
  }

  /** The agent link is gone. */
  void agentLost() {
    h2.agentLost();
    for (AppConnection c : new ArrayList<>(connections.values())) {
      EventLoops.run(c.loop(), c::close);
    }
    logCounts();
  }

  /** Logs the matched requests per port when they changed: the CLI's per-session counts. */
  void logCounts() {
    matched.forEach((port, n) -> {
      long v = n.get();
      Long before = reported.put(port, v);
      if (before == null || before != v) {
        logger.info("HTTP filter: {} matched request(s) on target port {} so far", v, port);
      }
    });
  }

  /** One matched request. Loop-confined to its connection's loop. */
  private final class Stream {
    final Http.Request req;
    final AppConnection conn;
    /** Body parts (ByteBuf, or a LastHttpContent) received before the request could be written. */
    final ArrayDeque<Object> waiting = new ArrayDeque<>();
    long waitingBytes;
    boolean written;
    boolean requestEnded;
    boolean responseStarted;
    /** Sent again after the app closed the connection it was written to (at most once). */
    boolean retried;
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

    void fromAgent(Object msg) {
      if (done) {
        DataFrame.discard(msg);
        return;
      }
      if (DataFrame.isData(msg)) {
        ByteBuf bytes = DataFrame.bytesOf(msg);
        if (written) {
          conn.write(new DefaultHttpContent(bytes));
          conn.flush();
        } else {
          waiting.add(bytes);
          waitingBytes += bytes.readableBytes();
          updateFlow();
        }
      } else if (msg instanceof Http.BodyEnd end) {
        requestEnded = true;
        LastHttpContent last = new DefaultLastHttpContent(io.netty.buffer.Unpooled.EMPTY_BUFFER, HEADERS);
        end.trailers().forEach(t -> last.trailingHeaders().add(t.name(), t.value()));
        if (written) {
          conn.write(last);
          conn.flush();
        } else {
          waiting.add(last);
        }
      } else if (msg instanceof Tcp.Flow f) {
        pausedByAgent = f.paused();
        conn.updateRead();
      } else if (msg instanceof Tcp.Close) {
        // The client went: the app's connection cannot carry on with this request.
        done = true;
        streams.remove(id());
        release();
        conn.abort(this);
      }
    }

    /** Whether the request may be sent again on a new connection: no answer yet, no body, an idempotent method. */
    boolean retryable() {
      return !retried && !responseStarted && req.endOfStream() && IDEMPOTENT.contains(req.method());
    }

    /** Writes the request (and what of its body came already) to the app. */
    void writeTo() {
      written = true;
      HttpRequest head = new DefaultHttpRequest(req.version() == Http.HTTP_1_0 ? HttpVersion.HTTP_1_0
          : HttpVersion.HTTP_1_1, HttpMethod.valueOf(req.method()), req.uri(), HEADERS);
      req.headers().forEach(h -> head.headers().add(h.name(), h.value()));
      conn.write(head);
      Object part;
      while ((part = waiting.poll()) != null) {
        conn.write(part instanceof ByteBuf b ? new DefaultHttpContent(b) : part);
      }
      waitingBytes = 0;
      if (req.endOfStream()) {
        conn.write(LastHttpContent.EMPTY_LAST_CONTENT);
      }
      conn.flush();
      updateFlow();
    }

    /** Pauses the agent's body while it waits for its turn past the limit, or the app's socket is full. */
    void updateFlow() {
      boolean pause = !done && !requestEnded
          && (waitingBytes > MAX_WAITING_BODY || (written && conn.channel != null && !conn.channel.isWritable()));
      if (pause != pausedAgent) {
        pausedAgent = pause;
        agent.send(new Tcp.Flow(id(), pause));
      }
    }

    void release() {
      waiting.forEach(ReferenceCountUtil::release);
      waiting.clear();
      waitingBytes = 0;
    }
  }

  /**
   * The app connection standing for one client connection of the target. Sharable: when the app
   * closed it between requests (its keep-alive timeout), the next request's new channel gets this
   * handler again; one channel at a time is {@link #channel}, and the old one's events are ignored.
   */
  @io.netty.channel.ChannelHandler.Sharable
  private final class AppConnection extends ChannelInboundHandlerAdapter {
    final long connectionId;
    final Http.Request first;
    final ArrayDeque<Stream> queue = new ArrayDeque<>();
    final io.netty.channel.EventLoop loop = group.next();
    Channel channel;
    boolean connected;
    LayerPeers layer;

    AppConnection(long connectionId, Http.Request first) {
      this.connectionId = connectionId;
      this.first = first;
    }

    io.netty.channel.EventLoop loop() {
      return channel != null ? channel.eventLoop() : loop;
    }

    void add(Stream s) {
      queue.add(s);
      if (channel == null) {
        open();
      } else if (connected && queue.size() == 1) {
        s.writeTo();
      }
    }

    private void open() {
      connected = false;
      layer = ports.layerFor(first.targetPort());
      int localPort = localPortFor.applyAsInt(first.targetPort());
      AppConnection self = this;
      Bootstrap b =
          new Bootstrap()
              .group(loop)
              .channel(transport.socketChannel())
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
              .handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                  ch.pipeline().addLast(new HttpClientCodec(new HttpDecoderConfig()
                      .setMaxInitialLineLength(64 * 1024).setMaxHeaderSize(64 * 1024)
                      .setMaxChunkSize(Tcp.MAX_CHUNK).setValidateHeaders(false), false, false));
                  ch.pipeline().addLast(self);
                }
              });
      dialer.dial(localPort, layer, first.sourceAddress(), first.sourcePort(), source -> {
        ChannelFuture bound = b.bind(source);
        channel = bound.channel();
        return bound;
      }, (ch, cliPort, failure) -> {
        if (failure != null) {
          failed(ch, localPort, failure);
          return;
        }
        connected = true;
        Stream head = queue.peek();
        if (head != null && !head.written) {
          head.writeTo();
        }
      });
    }

    private void failed(Channel ch, int localPort, Throwable cause) {
      logger.warn("cannot reach the app on local port {} for a matched HTTP request from {}:{}: {}", localPort,
          first.sourceAddress(), first.sourcePort(), cause.getMessage());
      ch.close();
      failAll();
    }

    private void failAll() {
      Stream s;
      while ((s = queue.poll()) != null) {
        if (!s.done) {
          s.done = true;
          streams.remove(s.id());
          s.release();
          agent.send(new Tcp.Close(s.id(), true));
        }
      }
      channel = null;
      if (connections.get(connectionId) == this) {
        connections.remove(connectionId);
      }
    }

    void write(Object msg) {
      channel.write(msg);
    }

    /** Now, or once at the end of the agent's read batch: a request's head, body and end in one write. */
    void flush() {
      ReadBatch.flush(channel);
    }

    void updateRead() {
      Channel ch = channel;
      if (ch == null || !connected || !ch.isActive()) {
        return;
      }
      Stream head = queue.peek();
      boolean read = agent.writable() && (head == null || !head.pausedByAgent);
      ch.config().setAutoRead(read);
    }

    /** The agent dropped a stream (its client went): abandon the app connection if it was in it. */
    void abort(Stream s) {
      if (queue.peek() == s && channel != null) {
        Channel ch = channel;
        queue.poll();
        failAll();
        ch.close();
      } else {
        queue.remove(s);
      }
    }

    void clientClosed() {
      close();
    }

    void close() {
      connections.remove(connectionId);
      for (Stream s : queue) {
        s.done = true;
        streams.remove(s.id());
        s.release();
      }
      queue.clear();
      if (channel != null) {
        channel.close();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        Stream s = queue.peek();
        if (s == null || s.done || ctx.channel() != channel) {
          return; // an answer nobody asked for, or on an app connection that is no longer this one's
        }
        if (msg instanceof HttpResponse res) {
          s.responseStarted = true;
          lastStatus = res.status().code();
          agent.send(new Http.Response(s.id(), res.protocolVersion().minorVersion() == 0 ? Http.HTTP_1_0
              : Http.HTTP_1_1, res.status().code(), res.status().reasonPhrase(), headers(res.headers()), false));
        }
        if (msg instanceof HttpContent content) {
          if (content.content().isReadable()) {
            agent.sendData(s.id(), content.content().retain());
          }
          if (content instanceof LastHttpContent last) {
            agent.send(new Http.BodyEnd(s.id(), headers(last.trailingHeaders())));
            if (s.responseStarted && (lastStatus < 100 || lastStatus >= 200)) {
              finish(s); // not after an informational answer (100 Continue): the real one follows
            }
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private int lastStatus;

    private void finish(Stream s) {
      s.done = true;
      streams.remove(s.id());
      queue.poll();
      Stream next = queue.peek();
      if (next != null && channel != null && connected && channel.isActive()) {
        next.writeTo();
      }
      updateRead();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      updateRead();
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      Stream s = queue.peek();
      if (s != null) {
        s.updateFlow();
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (layer != null && ctx.channel().localAddress() instanceof InetSocketAddress own) {
        layer.deliver(Tcp.IncomingPeer.forget(own.getPort())); // this channel's mapping (a new one has its own)
      }
      if (ctx.channel() != channel) {
        return;
      }
      channel = null;
      connected = false;
      Stream s = queue.peek();
      if (s != null && s.written && !s.done) {
        if (s.retryable()) {
          // The app closed the connection as the request reached it (its keep-alive timeout crossed the request),
          // before any of the answer: a request without a body and with an idempotent method goes again, once, on
          // a new connection (what HTTP clients do on a stale keep-alive connection, RFC 9110 9.2.2).
          logger.debug("the app closed its connection as request {} reached it; sending it again", s.id());
          s.written = false;
          s.retried = true;
        } else {
          // The app closed in the middle of an answer (or before it): the agent answers 502 or cuts.
          s.done = true;
          streams.remove(s.id());
          s.release();
          queue.poll();
          agent.send(new Tcp.Close(s.id(), true));
        }
      }
      if (!queue.isEmpty()) {
        open(); // the app closed between requests (Connection: close): the next ones get a new connection
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("app connection for client connection {}: {}", connectionId, cause.toString());
      ctx.close();
    }
  }

  private static List<Http.Header> headers(HttpHeaders headers) {
    return Http.Header.listOf(headers.iteratorCharSequence());
  }
}
