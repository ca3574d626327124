package dev.mirrord.jvm.podagent.session;

import dev.mirrord.jvm.podagent.dns.DnsApi;
import dev.mirrord.jvm.podagent.outgoing.OutgoingApi;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's end of one connection, installed last by {@code ProtocolPipeline.install(...,
 * Side.AGENT, session)}. One instance per connection.
 *
 * <p>The first message must be {@code Session.Hello} with the right token and a protocol version of
 * the same major; otherwise the client gets {@code HelloRejected} (or, for any other first message,
 * nothing) and the connection closes. After the handshake each family goes to this client's own
 * API: {@code Ping} is answered here, the Target family by {@link TargetApi}, the Tcp family by
 * {@link IncomingApi}, the Dns family by {@link DnsApi}, the
 * Outgoing family (and stream messages of outgoing ids) by {@link OutgoingApi}.
 *
 * <p>A bad frame (garbage, oversize, unknown tag) closes this connection only, with one WARN line
 * naming the peer and the reason. So does a reader-idle period of 60 s.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter {
  private static final Logger logger = LoggerFactory.getLogger(ClientSession.class);

  private enum State {
    AWAITING_HELLO,
    ESTABLISHED,
    CLOSING
  }

  private final SessionContext context;

  // Event-loop confined.
  private State state = State.AWAITING_HELLO;
  private String peer = "unconnected peer";
  private TargetApi targetApi;
  private IncomingApi incomingApi;
  private DnsApi dnsApi;
  private OutgoingApi outgoingApi;

  private volatile Channel channel;
  private volatile boolean authenticated;

  public ClientSession(SessionContext context) {
    this.context = context;
  }

  /** Who this is, for logs: the channel id and address, plus the Hello's peer name once known. */
  public String peer() {
    return peer;
  }

  /** Whether this client passed the handshake. */
  public boolean isAuthenticated() {
    return authenticated;
  }

  /** Closes the connection (any thread). */
  public void close() {
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    peer = describe(ctx.channel());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    peer = describe(ctx.channel());
    logger.debug("connection from {}", peer);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // the target sockets this batch of messages writes are flushed once, at its end
    ReadBatch.begin();
    if (msg instanceof DataFrame data) {
      dispatchData(ctx, data);
      return;
    }
    if (!(msg instanceof ClientMessage message)) {
      ReferenceCountUtil.release(msg);
      drop(ctx, "unexpected " + msg.getClass().getSimpleName() + " in the pipeline");
      return;
    }
    switch (state) {
      case AWAITING_HELLO -> handshake(ctx, message);
      case ESTABLISHED -> dispatch(ctx, message);
      case CLOSING -> logger.debug("{}: dropping {} after close", peer, message);
    }
  }

  private void handshake(ChannelHandlerContext ctx, ClientMessage message) {
    if (!(message instanceof Session.Hello hello)) {
      drop(ctx, "sent " + message.getClass().getSimpleName() + " before Hello");
      return;
    }
    ProtocolVersion ours = ProtocolVersion.CURRENT;
    if (!tokenMatches(hello.token())) {
      reject(ctx, hello, "bad session token");
    } else if (!ours.compatibleWith(hello.version())) {
      reject(
          ctx,
          hello,
          "protocol version mismatch: client "
              + hello.version()
              + ", agent "
              + ours
              + "; use the same mirrord version for CLI and agent");
    } else {
      state = State.ESTABLISHED;
      peer = "'" + hello.peer() + "' " + peer;
      targetApi = new TargetApi(context.target(), context.blockingWork(), this::reply);
      incomingApi =
          new IncomingApi(peer, this::reply, () -> channel, context.incoming(), context.blockingWork(),
              ours.negotiate(hello.version()));
      dnsApi = new DnsApi(context.dns(), this::reply, ctx.channel().eventLoop());
      outgoingApi =
          new OutgoingApi(peer, this::reply, () -> channel, context.blockingWork(), context.dns());
      ProtocolVersion negotiated = ours.negotiate(hello.version());
      ctx.writeAndFlush(new Session.HelloOk(negotiated, context.agentVersion()));
      authenticated = true;
      logger.info("client {} authenticated (protocol {})", peer, negotiated);
      if (context.incoming() != null) {
        context.incoming().warmUpCapture(); // once per agent, now that the handshake is done
      }
      context.listener().onAuthenticated(this);
    }
  }

  /** {@code Tcp.Data} of a stolen or outgoing connection (see {@code ProtocolPipeline.installRelaying}). */
  private void dispatchData(ChannelHandlerContext ctx, DataFrame data) {
    if (state != State.ESTABLISHED) {
      data.release();
      if (state == State.AWAITING_HELLO) {
        drop(ctx, "sent Data before Hello");
      }
      return;
    }
    try {
      if (Outgoing.isOutgoing(data.connectionId())) {
        outgoingApi.handleData(data);
      } else {
        incomingApi.handleData(data);
      }
    } catch (RejectedExecutionException e) {
      // The agent is shutting down: the socket's loop took no task, so the frame is still ours.
      logger.debug("{}: dropping {} during shutdown", peer, data);
      data.release();
    }
  }

  private void dispatch(ChannelHandlerContext ctx, ClientMessage message) {
    try {
      if (message instanceof Session.Ping ping) {
        ctx.writeAndFlush(new Session.Pong(ping.nonce()));
      } else if (message instanceof Target.TargetInfoRequest request) {
        targetApi.handle(request);
      } else if (message instanceof Target.EnvRequest request) {
        targetApi.handle(request);
      } else if (message instanceof Target.ResolverFilesRequest request) {
        targetApi.handle(request);
      } else if (message instanceof Dns.LookupRequest request) {
        dnsApi.handle(request);
      } else if (OutgoingApi.handles(message)) {
        outgoingApi.handle(message);
      } else if (message instanceof Tcp.PortSubscribe
          || message instanceof Tcp.PortUnsubscribe
          || message instanceof Tcp.Data
          || message instanceof Tcp.Shutdown
          || message instanceof Tcp.Close
          || message instanceof Tcp.Flow
          || message instanceof dev.mirrord.jvm.protocol.Http.SubscribeFiltered
          || message instanceof dev.mirrord.jvm.protocol.Http.Response
          || message instanceof dev.mirrord.jvm.protocol.Http.BodyEnd) {
        incomingApi.handle(message);
      } else if (message instanceof Session.Hello) {
        drop(ctx, "sent a second Hello");
      } else {
        drop(
            ctx, "sent " + message.getClass().getSimpleName() + ", which this agent does not know");
      }
    } catch (RejectedExecutionException e) {
      // The agent is shutting down; the connection is about to close anyway.
      logger.debug("{}: dropping {} during shutdown", peer, message);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (incomingApi != null) {
      incomingApi.writabilityChanged();
    }
    if (outgoingApi != null) {
      outgoingApi.writabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
      drop(ctx, "nothing received for a while (reader idle)");
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (state == State.CLOSING) {
      logger.debug("{}: further error after close: {}", peer, cause.toString());
      return;
    }
    if (cause instanceof DecoderException) {
      drop(ctx, "bad frame: " + reason(cause));
    } else {
      drop(ctx, reason(cause));
    }
    logger.debug("{}: details", peer, cause);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ReadBatch.end();
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    ReadBatch.end();
    state = State.CLOSING;
    if (authenticated) {
      logger.info("client {} disconnected", peer);
    } else {
      logger.debug("connection from {} closed", peer);
    }
    if (incomingApi != null) {
      incomingApi.closed();
    }
    if (outgoingApi != null) {
      outgoingApi.closed();
    }
    context.listener().onClosed(this);
    super.channelInactive(ctx);
  }

  /** Writes an answer; safe from any thread (the blocking executor uses it). */
  private void reply(AgentMessage message) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(message);
    }
  }

  private void reject(ChannelHandlerContext ctx, Session.Hello hello, String reason) {
    state = State.CLOSING;
    logger.warn("rejected {} ('{}', protocol {}): {}", peer, hello.peer(), hello.version(), reason);
    ctx.writeAndFlush(new Session.HelloRejected(ProtocolVersion.CURRENT, reason))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** Closes this connection with one WARN line; the server keeps serving everyone else. */
  private void drop(ChannelHandlerContext ctx, String reason) {
    if (state != State.CLOSING) {
      state = State.CLOSING;
      logger.warn("closing connection {}: {}", peer, reason);
    }
    ctx.close();
  }

  private boolean tokenMatches(String offered) {
    return MessageDigest.isEqual(
        context.token().getBytes(StandardCharsets.UTF_8), offered.getBytes(StandardCharsets.UTF_8));
  }

  /** The innermost message, e.g. "unknown message tag 0x1234" rather than the wrapper's. */
  private static String reason(Throwable cause) {
    Throwable t = cause;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m != null ? m : t.getClass().getSimpleName();
  }

  private static String describe(Channel ch) {
    Object address = ch.remoteAddress();
    String where = address == null || address.toString().isEmpty() ? "" : " " + address;
    return "#" + ch.id().asShortText() + where;
  }
}
