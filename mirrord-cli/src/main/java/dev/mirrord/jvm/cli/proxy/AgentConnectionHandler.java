package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.VersionInfo;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's one connection to the pod agent. Sends {@code Hello} (peer {@code "cli <version>"}) and
 * requires {@code HelloOk}; then routes answers through the {@link RequestRouter}, pings when idle,
 * shows the agent's warnings, and reports a lost connection once (then the session proxy ends the
 * app's JVMs, or they keep running with {@code layer.on_disconnect=continue}).
 */
final class AgentConnectionHandler extends SimpleChannelInboundHandler<AgentMessage> {
  private static final Logger logger = LoggerFactory.getLogger(AgentConnectionHandler.class);

  static final String LOST_WARNING =
      "lost the connection to the agent; remote features stop, the app keeps running";

  private final String token;
  private final RequestRouter router;
  private final IncomingProxy incoming;
  private final OutgoingProxy outgoing;
  private final UserNotices notices;
  private final BooleanSupplier closing;
  /** Called once when the connection is lost (not closed by the CLI); returns the warning to show. */
  private final java.util.function.Supplier<String> onLost;
  private final CompletableFuture<Session.HelloOk> handshake = new CompletableFuture<>();
  private long nextPing = 1;

  AgentConnectionHandler(String token, RequestRouter router, UserNotices notices, BooleanSupplier closing) {
    this(token, router, null, null, notices, closing, () -> LOST_WARNING);
  }

  AgentConnectionHandler(
      String token,
      RequestRouter router,
      IncomingProxy incoming,
      OutgoingProxy outgoing,
      UserNotices notices,
      BooleanSupplier closing,
      java.util.function.Supplier<String> onLost) {
    this.token = Objects.requireNonNull(token, "token");
    this.router = Objects.requireNonNull(router, "router");
    this.incoming = incoming;
    this.outgoing = outgoing;
    this.notices = Objects.requireNonNull(notices, "notices");
    this.closing = Objects.requireNonNull(closing, "closing");
    this.onLost = Objects.requireNonNull(onLost, "onLost");
  }

  /** Completes with the agent's {@code HelloOk}, or fails with a {@link MirrordException}. */
  CompletableFuture<Session.HelloOk> handshake() {
    return handshake;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    ctx.writeAndFlush(new Session.Hello(ProtocolVersion.CURRENT, token, VersionInfo.peerName()));
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    // the app sockets this batch of messages writes are flushed once, at its end
    ReadBatch.begin();
    if (msg instanceof DataFrame data) {
      // Tcp.Data of a relayed connection (ProtocolPipeline.installRelaying): no copy into a record.
      if (handshake.isDone() && outgoing != null && outgoing.fromAgent(data)) {
        return;
      }
      if (handshake.isDone() && incoming != null) {
        incoming.fromAgent(data);
        return;
      }
      logger.debug("agent sent {}, which nothing here relays; dropped", data);
      data.release();
      return;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, AgentMessage msg) {
    if (msg instanceof Session.AgentLog log) {
      agentLog(log);
      return;
    }
    if (!handshake.isDone()) {
      if (msg instanceof Session.HelloOk ok) {
        logger.info("agent handshake ok: protocol {}, agent {}", ok.negotiated(), ok.agentVersion());
        router.agentConnected(ctx.channel());
        if (incoming != null) {
          incoming.agentConnected(ctx.channel());
        }
        if (outgoing != null) {
          outgoing.agentConnected(ctx.channel());
        }
        handshake.complete(ok);
      } else if (msg instanceof Session.HelloRejected rejected) {
        handshake.completeExceptionally(rejection(rejected));
        ctx.close();
      } else {
        handshake.completeExceptionally(
            new MirrordException(
                ExitCode.PROTOCOL,
                "the mirrord agent answered Hello with "
                    + msg.getClass().getSimpleName()
                    + "; use mirrord-cli and pod agent jars from the same build"));
        ctx.close();
      }
      return;
    }
    if (msg instanceof Session.Pong) {
      return;
    }
    if (outgoing != null && outgoing.fromAgent(msg)) {
      return;
    }
    if (incoming != null && incoming.fromAgent(msg)) {
      return;
    }
    if (!router.fromAgent(msg)) {
      logger.debug("agent sent {}, which no layer asked for yet; dropped", msg.getClass().getSimpleName());
    }
  }

  static MirrordException rejection(Session.HelloRejected rejected) {
    if (!ProtocolVersion.CURRENT.compatibleWith(rejected.agentVersion())) {
      return new MirrordException(
          ExitCode.PROTOCOL,
          "the mirrord agent speaks protocol "
              + rejected.agentVersion()
              + " but this CLI speaks "
              + ProtocolVersion.CURRENT
              + " ("
              + rejected.reason()
              + "); use mirrord-cli and pod agent jars from the same build");
    }
    return new MirrordException(
        ExitCode.PROTOCOL,
        "the mirrord agent rejected this CLI ("
            + rejected.reason()
            + "; agent protocol "
            + rejected.agentVersion()
            + ", CLI protocol "
            + ProtocolVersion.CURRENT
            + "); use mirrord-cli and pod agent jars from the same build");
  }

  private void agentLog(Session.AgentLog log) {
    switch (log.level()) {
      case WARN, ERROR -> notices.warn("agent: " + log.message());
      default -> logger.info("agent: {}", log.message());
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    ReadBatch.end();
    super.channelReadComplete(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    ReadBatch.end();
    if (!handshake.isDone()) {
      handshake.completeExceptionally(
          new MirrordException(
              ExitCode.AGENT_FAILED,
              "the mirrord agent closed the connection during the handshake; see the agent log"));
    } else if (handshake.isCompletedExceptionally()) {
      // already reported
    } else {
      router.agentLost();
      if (incoming != null) {
        incoming.agentLost();
      }
      if (outgoing != null) {
        outgoing.agentLost();
      }
      if (!closing.getAsBoolean()) {
        notices.warn(onLost.get());
      } else {
        logger.debug("agent connection closed");
      }
    }
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent idle) {
      if (idle.state() == IdleState.WRITER_IDLE && handshake.isDone()) {
        ctx.writeAndFlush(new Session.Ping(nextPing++));
      } else if (idle.state() == IdleState.READER_IDLE) {
        logger.warn("no frame from the agent for a long time; closing the connection");
        ctx.close();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (incoming != null) {
      incoming.agentWritabilityChanged();
    }
    if (outgoing != null) {
      outgoing.agentWritabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.warn("closing the agent connection: {}", cause.toString());
    if (!handshake.isDone()) {
      handshake.completeExceptionally(
          new MirrordException(
              ExitCode.PROTOCOL,
              "the mirrord agent connection broke during the handshake (" + cause.getMessage() + "); use mirrord-cli and pod agent jars from the same build"));
    }
    ctx.close();
  }
}
