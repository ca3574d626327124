package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.podagent.http.HttpFilterMatcher;
import dev.mirrord.jvm.podagent.http.ProtocolSniffer;
import dev.mirrord.jvm.podagent.http.RawBytes;
import dev.mirrord.jvm.podagent.http.RawHttpRequestDecoder;
import dev.mirrord.jvm.podagent.http.RawHttpResponseDecoder;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.IncomingMode;
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
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection redirected to a filtered port (see ARCHITECTURE.md, "HTTP-filtered steal
 * and mirror"). The pipeline starts as {@code [ProtocolSniffer, this]}; for HTTP/1 a {@link
 * RawHttpRequestDecoder} goes between them. Each request is matched on its head: unmatched ones go
 * to the pass-through socket (to the target's own server, or the next older filtering agent) as the
 * bytes that came, matched ones to the session as {@code Http.Request} + body. Answers are written
 * in request order from one queue ({@link #exchanges}): the server's bytes as they came (a {@link
 * RawHttpResponseDecoder} only finds where each ends), the sessions' encoded by Netty's {@link
 * HttpResponseEncoder}. An h2c (prior knowledge) connection gets Netty's HTTP/2 codec between them
 * instead, and {@link H2FilteredStreams} matches each stream; this handler then only owns the
 * connection's life (hand-back, close). Everything runs on the client socket's event loop.
 */
final class FilteredConnection extends ChannelInboundHandlerAdapter {
  private static final Logger logger = LoggerFactory.getLogger(FilteredConnection.class);

  /** How long the first bytes may take before the connection is passed through as it is. */
  static final long DETECT_MILLIS = Long.getLong("mirrord.agent.http.detectMillis", 10_000);

  /** Pipelined requests read ahead of their answers before the client is paused. */
  static final int MAX_PIPELINED = 32;

  /** Bytes of one session's answer kept while earlier answers are still being written. */
  static final int MAX_QUEUED_RESPONSE = 1024 * 1024;

  private static final HttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory().withValidation(false);

  private enum Mode {
    DETECTING,
    HTTP1,
    /** Every byte from here on goes to the pass-through socket, and back. */
    RAW_PASS,
    /** Every byte from here on belongs to a session (a matched upgrade). */
    RAW_SESSION,
    /** h2c prior knowledge: {@link H2FilteredStreams} matches each stream. */
    H2C
  }

  private final TcpStealer stealer;
  private final FilteredPort port;
  private final long connectionId;
  private final int passThroughGid;
  private ChannelHandlerContext ctx;
  private Channel client;
  private Mode mode = Mode.DETECTING;

  private Channel upstream;
  private boolean upstreamConnected;
  private boolean upstreamDecoder;
  private RawHttpResponseDecoder responseDecoder;
  private final ArrayDeque<ByteBuf> upstreamBacklog = new ArrayDeque<>();
  private long upstreamBacklogBytes;
  private boolean upstreamShutdownPending;
  /** What the pass-through socket sent that no exchange has taken yet. */
  private final ArrayDeque<Object> upstreamEvents = new ArrayDeque<>();

  /** Head bytes of the request being read, until it is matched. */
  private final List<RawBytes> pendingRaw = new ArrayList<>();
  /** The exchange whose request is being read; null between requests. */
  private Exchange receiving;
  /** Exchanges in request order; the head's answer is the one being written. */
  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private final Set<StealClient> sessionsSeen = new LinkedHashSet<>();
  private boolean clientInputEnded;
  private boolean closing;
  private boolean multiMatchLogged;
  /** Why the last pass-through connection could not be made. */
  private String upstreamFailure;
  /** While detecting, the pass-through socket's server sent what starts like an HTTP/2 server preface. */
  private boolean serverSentH2Settings;
  /** The HTTP/2 streams of an h2c connection; null otherwise. */
  private H2FilteredStreams h2;

  FilteredConnection(TcpStealer stealer, FilteredPort port, long connectionId, int passThroughGid) {
    this.stealer = stealer;
    this.port = port;
    this.connectionId = connectionId;
    this.passThroughGid = passThroughGid;
  }

  // ---------------------------------------------------------------- the client socket

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.client = ctx.channel();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    port.connections.add(this);
    connectUpstream();
    client.config().setAutoRead(true);
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ProtocolSniffer.Detected d) {
      detected(d.kind());
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      clientInputEnded();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private void detected(ProtocolSniffer.Kind kind) {
    if (kind == ProtocolSniffer.Kind.HTTP1 && !serverSentH2Settings) {
      mode = Mode.HTTP1;
      ctx.pipeline().addBefore(ctx.name(), "http-request", new RawHttpRequestDecoder());
      if (upstream != null) {
        responseDecoder = new RawHttpResponseDecoder();
        upstream.pipeline().addFirst("http-response", responseDecoder);
        upstreamDecoder = true;
      }
    } else if (kind == ProtocolSniffer.Kind.H2C) {
      mode = Mode.H2C;
      // Unmatched streams go on an h2c connection of their own, opened when the first one comes.
      Channel up = upstream;
      upstream = null;
      upstreamConnected = false;
      upstreamBacklog.forEach(ByteBuf::release);
      upstreamBacklog.clear();
      upstreamEvents.forEach(ReferenceCountUtil::release); // that connection's server preface
      upstreamEvents.clear();
      if (up != null) {
        up.close();
      }
      h2 = new H2FilteredStreams(stealer, port, connectionId, passThroughGid, client, sessionsSeen);
      h2.install(ctx.pipeline(), ctx.name());
    } else {
      logger.debug("connection {} on port {}: {}, passed through", hex(connectionId), port.port, kind);
      toRawPass();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof RawBytes raw) {
        rawFromClient(raw.content().retain());
      } else if (msg instanceof ByteBuf buf) {
        // no decoder in front (raw modes, or what a removed decoder still held)
        rawFromClient(buf.retain());
      } else if (msg instanceof HttpRequest req) {
        request(req);
      } else if (msg instanceof HttpContent content) {
        content(content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (upstream != null && upstreamConnected) {
      upstream.flush();
    }
    updateClientRead();
    ctx.fireChannelReadComplete();
  }

  private void rawFromClient(ByteBuf bytes) {
    switch (mode) {
      case RAW_PASS -> toUpstream(bytes);
      case RAW_SESSION -> {
        RawSession s = (RawSession) exchanges.peekLast();
        if (s != null && !s.done) {
          s.owner.sendData(s.streamId, bytes);
        } else {
          bytes.release();
        }
      }
      case HTTP1 -> {
        if (receiving == null) {
          pendingRaw.add(new RawBytes(bytes));
        } else if (receiving instanceof Pass p) {
          if (p.failed) {
            bytes.release(); // the body of a request already answered 502
          } else {
            toUpstream(bytes);
          }
        } else {
          bytes.release(); // a matched request's body travels as the decoded content
        }
      }
      default -> bytes.release();
    }
  }

  private void request(HttpRequest req) {
    if (mode != Mode.HTTP1) {
      return; // the rest of a request read before an upgrade switched the connection to raw
    }
    if (req.decoderResult().isFailure()) {
      logger.info("connection {} from {} on port {}: not a valid HTTP request ({}); passing the connection through",
          hex(connectionId), client.remoteAddress(), port.port, req.decoderResult().cause().getMessage());
      toRawPass();
      return;
    }
    boolean upgrade = isUpgrade(req);
    FilteredPort.Match match = port.handedBack ? null : port.match(dev.mirrord.jvm.podagent.http.MirrorHttpFilter.view(req));
    if (match != null && !match.alsoMatched().isEmpty() && !multiMatchLogged) {
      multiMatchLogged = true;
      logger.info("{} {} on port {} matches the filters of {} and {}; {} takes it (first match)", req.method(),
          req.uri(), port.port, match.client().name(),
          String.join(", ", match.alsoMatched().stream().map(StealClient::name).toList()), match.client().name());
    }
    if (match == null) {
      Pass p = new Pass(req.method(), upgrade, HttpUtil.isKeepAlive(req));
      exchanges.add(p);
      receiving = p;
      if (upstream == null && !closing) {
        connectUpstream(); // the server closed the previous one while idle, or could not be reached
      }
      p.via = upstream;
      if (responseDecoder != null) {
        responseDecoder.requestSent(req.method());
      }
      for (RawBytes r : pendingRaw) {
        toUpstream(r.content());
      }
      pendingRaw.clear();
      return;
    }
    if (!upgrade) {
      releasePending();
    }
    StealClient owner = match.client();
    sessionsSeen.add(owner);
    long streamId = stealer.newId();
    InetSocketAddress src = (InetSocketAddress) client.remoteAddress();
    if (upgrade) {
      // The rest of the connection is the session's: an ordinary stolen connection under the stream id.
      RawSession s = new RawSession(streamId, owner);
      exchanges.add(s);
      stealer.registerFlow(s);
      InetSocketAddress dst = (InetSocketAddress) client.localAddress();
      owner.send(new Tcp.NewConnection(streamId, IncomingMode.STEAL, port.port, src.getAddress().getHostAddress(),
          src.getPort(), dst.getAddress().getHostAddress(), port.port));
      for (RawBytes r : pendingRaw) {
        owner.sendData(streamId, r.content()); // the request's own bytes
      }
      pendingRaw.clear();
      mode = Mode.RAW_SESSION;
      receiving = null;
      removeRequestDecoder();
      return;
    }
    boolean chunked = HttpUtil.isTransferEncodingChunked(req);
    boolean empty = !chunked && HttpUtil.getContentLength(req, 0L) == 0;
    Stolen s = new Stolen(streamId, owner, req.method(), HttpUtil.isKeepAlive(req), empty);
    exchanges.add(s);
    receiving = s;
    stealer.registerFlow(s);
    owner.send(new Http.Request(streamId, connectionId, port.port, src.getAddress().getHostAddress(), src.getPort(),
        version(req.protocolVersion()), req.method().name(), req.uri(), headers(req.headers()), empty));
  }

  private void content(HttpContent content) {
    Exchange ex = receiving;
    if (mode != Mode.HTTP1 || ex == null) {
      return;
    }
    if (ex instanceof Stolen s) {
      ByteBuf data = content.content();
      if (data.isReadable() && !s.done) {
        s.owner.sendData(s.streamId, data.retain());
      }
      if (content instanceof LastHttpContent last && !s.done) {
        if (!s.requestEndSent) {
          s.requestEndSent = true;
          List<Http.Header> trailers = headers(last.trailingHeaders());
          if (!s.emptyHead || !trailers.isEmpty() || data.isReadable()) {
            s.owner.send(new Http.BodyEnd(s.streamId, trailers));
          }
        }
      }
    }
    if (content instanceof LastHttpContent) {
      receiving = null;
      if (ex instanceof Pass p && p.upgrade && !p.failed) {
        toRawPass();
      }
    }
  }

  private void clientInputEnded() {
    clientInputEnded = true;
    if (mode == Mode.H2C) {
      client.close(); // Netty's graceful close: GOAWAY, then close once the open streams end
      return;
    }
    if (mode == Mode.RAW_SESSION) {
      RawSession s = (RawSession) exchanges.peekLast();
      if (s != null && !s.done) {
        s.owner.send(new Tcp.Shutdown(s.streamId));
      }
    } else {
      shutdownUpstreamOutput();
    }
    if (receiving instanceof Stolen s && !s.done) {
      abortStream(s); // the request was cut off
    }
    receiving = null;
    closeIfIdle();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    boolean writable = client.isWritable();
    if (writable) {
      drain();
    }
    updateUpstreamRead();
    for (Exchange e : exchanges) {
      if (e instanceof Flowing f) {
        f.updateFlow();
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    port.connections.remove(this);
    for (Exchange e : exchanges) {
      if (e instanceof Flowing f && !f.done()) {
        f.abortToOwner();
      }
      if (e instanceof Flowing f) {
        stealer.unregisterFlow(f.id());
        f.releaseQueued();
      }
    }
    exchanges.clear();
    for (StealClient s : sessionsSeen) {
      s.send(new Tcp.Close(connectionId, false));
    }
    releasePending();
    if (h2 != null) {
      h2.closed();
    }
    upstreamEvents.forEach(ReferenceCountUtil::release);
    upstreamEvents.clear();
    upstreamBacklog.forEach(ByteBuf::release);
    upstreamBacklog.clear();
    if (upstream != null) {
      upstream.close();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (h2 != null && h2.protocolError(cause)) {
      return; // Netty answers it (GOAWAY) and closes the connection itself
    }
    logger.debug("filtered connection {}: {}", hex(connectionId), cause.toString());
    ctx.close();
  }

  // ---------------------------------------------------------------- the pass-through socket

  private void connectUpstream() {
    InetSocketAddress local = (InetSocketAddress) client.localAddress();
    InetSocketAddress target = new InetSocketAddress(local.getAddress(), port.port);
    EventLoop loop = client.eventLoop();
    Upstream handler = new Upstream();
    upstreamConnected = false;
    upstreamDecoder = false;
    responseDecoder = null;
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channelFactory(PassThroughSockets.factory(loop, passThroughGid))
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
            .handler(handler);
    Channel up = b.register().channel();
    if (mode == Mode.HTTP1) {
      responseDecoder = new RawHttpResponseDecoder();
      up.pipeline().addFirst("http-response", responseDecoder);
      upstreamDecoder = true;
    }
    upstream = up;
    up.connect(target).addListener((ChannelFutureListener) f -> {
      if (up != upstream) {
        return; // given up on (an h2c connection opens its own)
      }
      if (!f.isSuccess()) {
        upstreamFailed(up, f.cause());
        return;
      }
      upstreamConnected = true;
      ByteBuf b2;
      while ((b2 = upstreamBacklog.poll()) != null) {
        f.channel().write(b2);
      }
      upstreamBacklogBytes = 0;
      f.channel().flush();
      if (upstreamShutdownPending) {
        shutdownUpstreamOutput();
      }
      updateClientRead();
    });
  }

  /**
   * The target's own server could not be reached (it serves nothing on the port, or is restarting).
   * HTTP/1 requests that matched no filter and went to {@code up} are answered 502; the connection
   * stays, so its matched requests (and a matched upgrade) still reach their sessions, and the next
   * unmatched one tries again. A connection passed through whole (not HTTP) is closed, as a client
   * of the target would see it.
   */
  private void upstreamFailed(Channel up, Throwable cause) {
    upstream = null;
    upstreamConnected = false;
    upstreamDecoder = false;
    responseDecoder = null;
    upstreamBacklog.forEach(ByteBuf::release);
    upstreamBacklog.clear();
    upstreamBacklogBytes = 0;
    upstreamShutdownPending = false;
    upstreamFailure = cause.getMessage();
    if (mode != Mode.RAW_PASS) {
      logger.debug("connection {} on port {}: cannot reach the target's own server: {}", hex(connectionId), port.port,
          upstreamFailure);
      for (Exchange e : exchanges) {
        if (e instanceof Pass p && p.via == up) {
          p.failed = true;
          if (p.upgrade) {
            p.closeAfter = true; // what follows the refused upgrade's head is not HTTP
          }
        }
      }
      drain();
      return;
    }
    if (port.logUnreachable()) {
      logger.info("port {}: the target's own server cannot be reached ({}); connections that are not HTTP are"
          + " closed until it can", port.port, upstreamFailure);
    }
    client.close();
  }

  private void toUpstream(ByteBuf bytes) {
    if (upstream == null) {
      if (closing || mode == Mode.DETECTING) {
        bytes.release();
        return;
      }
      connectUpstream();
    }
    if (!upstreamConnected) {
      upstreamBacklog.add(bytes);
      upstreamBacklogBytes += bytes.readableBytes();
      return;
    }
    upstream.write(bytes);
  }

  private void shutdownUpstreamOutput() {
    if (upstream == null) {
      return;
    }
    if (!upstreamConnected) {
      upstreamShutdownPending = true;
      return;
    }
    Channel up = upstream;
    up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
      if (up.isActive() && up instanceof SocketChannel sc) {
        sc.shutdownOutput();
      }
    });
  }

  /** From here on the connection is the target's: raw both ways. */
  private void toRawPass() {
    mode = Mode.RAW_PASS;
    receiving = null;
    exchanges.add(new RawPass());
    for (RawBytes r : pendingRaw) {
      toUpstream(r.content());
    }
    pendingRaw.clear();
    if (upstream != null && upstreamDecoder) {
      upstreamDecoder = false;
      responseDecoder = null;
      upstream.pipeline().remove("http-response"); // what it held arrives as plain bytes
    }
    removeRequestDecoder();
    drain();
  }

  private void removeRequestDecoder() {
    if (ctx.pipeline().get("http-request") != null) {
      ctx.pipeline().remove("http-request"); // what it held arrives here as plain bytes
    }
  }

  /** The pass-through socket's end of the pipeline. */
  private final class Upstream extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext uctx) {
      uctx.channel().config().setAutoRead(true);
      uctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext uctx, Object msg) {
      if (mode == Mode.DETECTING && !serverSentH2Settings && msg instanceof ByteBuf buf && isH2Settings(buf)) {
        // An h2c server speaks first too (its SETTINGS): the client's preface decides.
        serverSentH2Settings = true;
      }
      if (mode == Mode.DETECTING && !serverSentH2Settings) {
        // The server spoke before the client: not a protocol we filter.
        ProtocolSniffer sniffer = ctx.pipeline().get(ProtocolSniffer.class);
        if (sniffer != null) {
          sniffer.serverSpoke(ctx.pipeline().context(sniffer));
        }
        if (mode == Mode.DETECTING) {
          toRawPass();
        }
      }
      if (msg instanceof ByteBuf buf && upstreamDecoder) {
        buf.release(); // the decoder's copy of an upgraded connection's bytes: their RawBytes came first
        return;
      }
      upstreamEvents.add(msg instanceof ByteBuf buf ? new RawBytes(buf) : msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext uctx) {
      drain();
      updateUpstreamRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext uctx) {
      updateClientRead();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext uctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        upstreamInputEnded(uctx.channel());
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext uctx) {
      upstreamInputEnded(uctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
      logger.debug("pass-through socket of {}: {}", hex(connectionId), cause.toString());
      uctx.close();
    }
  }

  private void upstreamInputEnded(Channel up) {
    if (up != upstream) {
      return;
    }
    drain();
    Exchange head = exchanges.peek();
    if (head instanceof RawPass) {
      if (client.isActive() && client instanceof SocketChannel sc) {
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
          if (sc.isActive()) {
            sc.shutdownOutput();
          }
        });
      }
      if (!up.isActive()) {
        closeAfterFlush();
      }
      return;
    }
    if (!up.isActive()) {
      upstream = null;
      upstreamConnected = false;
      upstreamDecoder = false;
      responseDecoder = null;
      if (exchanges.stream().anyMatch(e -> e instanceof Pass)) {
        // The server closed with requests unanswered: so does the connection, as it would.
        closeAfterFlush();
      }
    }
  }

  // ---------------------------------------------------------------- answers, in order

  /** Writes what the head exchange(s) can write now. */
  private void drain() {
    boolean wrote = false;
    while (!closing) {
      Exchange head = exchanges.peek();
      if (head == null) {
        break;
      }
      boolean finished;
      if (head instanceof Pass || head instanceof RawPass) {
        finished = drainUpstream(head);
      } else {
        finished = ((Flowing) head).drainTo(this);
      }
      wrote = true;
      if (!finished) {
        break;
      }
      exchanges.poll();
      if (head instanceof Flowing f) {
        stealer.unregisterFlow(f.id());
      }
      if (head.closeAfter) {
        closeAfterFlush();
        return;
      }
    }
    if (wrote) {
      // once per batch of the session's messages: an answer's head, body and end in one write
      dev.mirrord.jvm.protocol.relay.ReadBatch.flush(client);
    }
    for (Exchange e : exchanges) {
      if (e instanceof Flowing f) {
        f.updateFlow();
      }
    }
    updateClientRead();
    closeIfIdle();
  }

  /** Writes the server's bytes for {@code head}; whether its answer is complete. */
  private boolean drainUpstream(Exchange head) {
    if (head instanceof Pass p && p.failed) {
      writeBadGateway(p);
      return true;
    }
    Object ev;
    while ((ev = upstreamEvents.poll()) != null) {
      try {
        if (ev instanceof RawBytes raw) {
          client.write(raw.content().retain());
        } else if (head instanceof Pass p && ev instanceof HttpResponse res) {
          int code = res.status().code();
          p.informational = code >= 100 && code < 200 && code != 101;
          if (!HttpUtil.isKeepAlive(res)) {
            p.closeAfter = true;
          }
        } else if (head instanceof Pass p && ev instanceof LastHttpContent) {
          if (!p.informational) {
            return true;
          }
        }
      } finally {
        ReferenceCountUtil.release(ev);
      }
    }
    return false;
  }

  /** The answer of an unmatched request whose pass-through connection could not be made. */
  private void writeBadGateway(Pass p) {
    if (port.logUnreachable()) {
      logger.info("port {}: the target's own server cannot be reached ({}); requests that match no filter are"
          + " answered 502 until it can", port.port, upstreamFailure);
    }
    if (!p.keepAlive) {
      p.closeAfter = true;
    }
    byte[] body = ("mirrord: the target's own server on port " + port.port + " cannot be reached ("
        + upstreamFailure + ")\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: "
        + body.length + "\r\n" + (p.closeAfter ? "connection: close\r\n" : "") + "\r\n";
    ByteBuf out = client.alloc().buffer(head.length() + body.length);
    out.writeCharSequence(head, StandardCharsets.ISO_8859_1);
    if (!HttpMethod.HEAD.equals(p.method)) {
      out.writeBytes(body);
    }
    client.write(out);
  }

  private void closeIfIdle() {
    if (mode == Mode.H2C) {
      if (!closing && port.handedBack) {
        closing = true;
        client.close(); // GOAWAY: the client opens its next streams on a new connection, to the target
      }
      return;
    }
    if (!closing && exchanges.isEmpty() && receiving == null
        && (clientInputEnded || (port.handedBack && pendingRaw.isEmpty()))) {
      closeAfterFlush();
    }
  }

  private void closeAfterFlush() {
    if (closing) {
      return;
    }
    closing = true;
    client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /** The last filter of the port went: close once idle (the client reconnects to the target). Any thread. */
  void handBackLater() {
    client.eventLoop().execute(this::closeIfIdle);
  }

  /** Closes the client connection (and so its pass-through socket) now. Any thread. */
  io.netty.channel.ChannelFuture closeNow() {
    ChannelHandlerContext h2Codec = client.pipeline().context("h2");
    if (h2Codec != null) {
      return h2Codec.close(); // past the codec's graceful close, which would wait for the open streams
    }
    return client.close(); // channelInactive closes the pass-through socket
  }

  private void updateClientRead() {
    if (!client.isActive() || mode == Mode.H2C) { // h2c: each stream is paused on its own
      return;
    }
    boolean read = exchanges.size() < MAX_PIPELINED;
    if (upstream != null && upstreamConnected && !upstream.isWritable()) {
      read = false;
    }
    if (upstreamBacklogBytes > MAX_QUEUED_RESPONSE) {
      read = false;
    }
    Exchange r = mode == Mode.RAW_SESSION ? exchanges.peekLast() : receiving;
    if (r instanceof Flowing f && !f.done() && (!f.owner().writable() || f.pausedByOwner())) {
      read = false;
    }
    if (client.config().isAutoRead() != read) {
      client.config().setAutoRead(read);
    }
  }

  private void updateUpstreamRead() {
    Channel up = upstream;
    if (up != null && up.isActive()) {
      boolean read = client.isWritable() && upstreamEvents.size() < 64;
      if (up.config().isAutoRead() != read) {
        up.config().setAutoRead(read);
      }
    }
  }

  private void abortStream(Flowing f) {
    f.abortToOwner();
    f.markDone();
    stealer.unregisterFlow(f.id());
  }

  private void releasePending() {
    pendingRaw.forEach(RawBytes::release);
    pendingRaw.clear();
  }

  // ---------------------------------------------------------------- exchanges

  private abstract static class Exchange {
    /** Close the client connection once this answer is written. */
    boolean closeAfter;
  }

  /** An unmatched request: the server answers. */
  private static final class Pass extends Exchange {
    final HttpMethod method;
    final boolean upgrade;
    final boolean keepAlive;
    boolean informational;
    /** The pass-through connection the request went on. */
    Channel via;
    /** That connection could not be made: the answer is a 502. */
    boolean failed;

    Pass(HttpMethod method, boolean upgrade, boolean keepAlive) {
      this.method = method;
      this.upgrade = upgrade;
      this.keepAlive = keepAlive;
    }
  }

  /** The rest of the connection passes through raw; never finishes. */
  private static final class RawPass extends Exchange {}

  /** An exchange whose answer comes from a session under a stream id. */
  private abstract class Flowing extends Exchange implements StolenFlow {
    final long streamId;
    final StealClient owner;
    final ArrayDeque<Object> queue = new ArrayDeque<>();
    long queuedBytes;
    boolean done;
    boolean pausedByOwner;
    boolean pausedOwner;

    Flowing(long streamId, StealClient owner) {
      this.streamId = streamId;
      this.owner = owner;
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

    boolean done() {
      return done;
    }

    void markDone() {
      done = true;
    }

    boolean pausedByOwner() {
      return pausedByOwner;
    }

    @Override
    public void fromOwner(Object message) {
      if (closing || (done && !(message instanceof Tcp.Flow))) {
        DataFrame.discard(message);
        return;
      }
      if (message instanceof Tcp.Flow f) {
        pausedByOwner = f.paused();
        updateClientRead();
        return;
      }
      queue.add(message);
      queuedBytes += DataFrame.dataSize(message);
      if (exchanges.peek() == this) {
        drain();
      } else {
        updateFlow();
      }
    }

    @Override
    public void ownerWritabilityChanged() {
      updateClientRead();
    }

    @Override
    public void ownerGone() {
      if (!done) {
        markDone();
        releaseQueued();
        // The session vanished mid-answer: the client cannot get a whole answer any more.
        if (client.isActive()) {
          client.close();
        }
      }
    }

    /** Pauses the session's answer while it cannot be written (client full, or not our turn). */
    void updateFlow() {
      boolean pause = !done && (!client.isWritable() || queuedBytes > MAX_QUEUED_RESPONSE);
      if (pause != pausedOwner) {
        pausedOwner = pause;
        owner.send(new Tcp.Flow(streamId, pause));
      }
    }

    void abortToOwner() {
      if (!done) {
        owner.send(new Tcp.Close(streamId, true));
      }
    }

    void releaseQueued() {
      queue.forEach(DataFrame::discard);
      queue.clear();
      queuedBytes = 0;
    }

    /** Writes what is queued; whether the answer is complete. */
    abstract boolean drainTo(FilteredConnection c);
  }

  /** A matched request: the session answers. */
  private final class Stolen extends Flowing {
    final HttpMethod method;
    final boolean requestKeepAlive;
    final boolean emptyHead;
    boolean requestEndSent;
    ResponseEncoding encoder;
    boolean noBody;
    boolean finalHeadWritten;

    Stolen(long streamId, StealClient owner, HttpMethod method, boolean keepAlive, boolean emptyHead) {
      super(streamId, owner);
      this.method = method;
      this.requestKeepAlive = keepAlive;
      this.emptyHead = emptyHead;
      this.requestEndSent = emptyHead;
    }

    @Override
    boolean drainTo(FilteredConnection c) {
      Object m;
      while ((m = queue.poll()) != null) {
        queuedBytes -= DataFrame.dataSize(m);
        if (m instanceof Http.Response r) {
          HttpResponse res = response(r);
          int code = r.status();
          boolean informational = code >= 100 && code < 200;
          encoder = new ResponseEncoding();
          noBody = informational || code == 204 || code == 304 || HttpMethod.HEAD.equals(method);
          if (!informational) {
            finalHeadWritten = true;
            boolean chunked = HttpUtil.isTransferEncodingChunked(res);
            boolean delimitedByClose = !noBody && !chunked && !HttpUtil.isContentLengthSet(res);
            closeAfter = delimitedByClose || !requestKeepAlive || !HttpUtil.isKeepAlive(res);
          }
          encode(res);
          if (informational) {
            encode(LastHttpContent.EMPTY_LAST_CONTENT);
          } else if (r.endOfStream()) {
            if (!noBody) {
              encode(LastHttpContent.EMPTY_LAST_CONTENT);
            }
            markDone();
            return true;
          }
        } else if (DataFrame.isData(m)) {
          ByteBuf bytes = DataFrame.bytesOf(m);
          if (noBody || encoder == null) {
            bytes.release();
          } else {
            encode(new DefaultHttpContent(bytes));
          }
        } else if (m instanceof Http.BodyEnd end) {
          if (!finalHeadWritten) {
            continue; // the end of an informational answer's (empty) body
          }
          if (!noBody) {
            LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, HEADERS);
            end.trailers().forEach(t -> last.trailingHeaders().add(t.name(), t.value()));
            encode(last);
          }
          markDone();
          return true;
        } else if (m instanceof Tcp.Close close) {
          // The app could not answer (or broke off): a 502 if nothing was written yet, else a cut connection.
          markDone();
          if (encoder == null) {
            HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY, HEADERS);
            byte[] body = ("mirrord: the local app did not answer this request"
                + (close.reset() ? " (connection reset)" : "") + "\n").getBytes(StandardCharsets.UTF_8);
            res.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            encoder = new ResponseEncoding();
            encode(res);
            encode(new DefaultLastHttpContent(Unpooled.wrappedBuffer(body)));
          }
          closeAfter = true;
          return true;
        } else {
          DataFrame.discard(m);
        }
      }
      return false;
    }

    private void encode(HttpObject msg) {
      List<Object> out = new ArrayList<>(2);
      try {
        encoder.encodeTo(ctx, msg, out);
      } catch (Exception e) {
        throw new IllegalStateException("cannot encode the answer of stream " + hex(streamId), e);
      }
      for (Object o : out) {
        client.write(o);
      }
    }
  }

  /** A matched upgrade: the rest of the connection is the session's, raw. */
  private final class RawSession extends Flowing {
    RawSession(long streamId, StealClient owner) {
      super(streamId, owner);
    }

    @Override
    boolean drainTo(FilteredConnection c) {
      Object m;
      while ((m = queue.poll()) != null) {
        queuedBytes -= DataFrame.dataSize(m);
        if (DataFrame.isData(m)) {
          client.write(DataFrame.bytesOf(m));
        } else if (m instanceof Tcp.Shutdown) {
          Channel ch = client;
          ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (ch.isActive() && ch instanceof SocketChannel sc) {
              sc.shutdownOutput();
            }
          });
        } else if (m instanceof Tcp.Close close) {
          markDone();
          if (close.reset() && client.isActive()) {
            client.config().setOption(ChannelOption.SO_LINGER, 0);
          }
          closeAfter = true;
          return true;
        } else {
          DataFrame.discard(m);
        }
      }
      return false;
    }
  }

  // ---------------------------------------------------------------- helpers

  private static HttpResponse response(Http.Response r) {
    HttpVersion v = r.version() == Http.HTTP_1_0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    HttpResponse res = new DefaultHttpResponse(v, new HttpResponseStatus(r.status(), r.reason()), HEADERS);
    for (Http.Header h : r.headers()) {
      res.headers().add(h.name(), h.value());
    }
    return res;
  }

  private static int version(HttpVersion v) {
    return v.minorVersion() == 0 ? Http.HTTP_1_0 : Http.HTTP_1_1;
  }

  static List<Http.Header> headers(HttpHeaders headers) {
    return Http.Header.listOf(headers.iteratorCharSequence());
  }

  private static boolean isUpgrade(HttpRequest req) {
    return HttpMethod.CONNECT.equals(req.method())
        || (req.headers().contains(HttpHeaderNames.UPGRADE)
            && req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true));
  }

  /** Whether {@code buf} starts with an HTTP/2 SETTINGS frame header (not an ACK) on stream 0: a server preface. */
  static boolean isH2Settings(ByteBuf buf) {
    int i = buf.readerIndex();
    if (buf.readableBytes() < 9) {
      return false;
    }
    int length = buf.getUnsignedMedium(i);
    return length % 6 == 0 && buf.getByte(i + 3) == 0x04 && buf.getByte(i + 4) == 0 && buf.getInt(i + 5) == 0;
  }

  static String hex(long id) {
    return Long.toHexString(id & ~Tcp.STEAL_ID_BIT);
  }
}
