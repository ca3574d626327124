package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.cli.VersionInfo;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One layer's connection to the CLI. The first message must be {@code Hello} with the session token
 * and a compatible protocol version, else {@code HelloRejected} and close. Then: {@code Ping} is
 * answered here, correlated requests go through the {@link RequestRouter}, features not built yet
 * get a {@code NotImplemented} answer where the protocol has one.
 */
final class LayerConnectionHandler extends SimpleChannelInboundHandler<ClientMessage>
    implements ReplyTarget, LayerPeers {
  private static final Logger logger = LoggerFactory.getLogger(LayerConnectionHandler.class);

  /** A layer that says nothing for this long after connecting is dropped. */
  static final long HELLO_TIMEOUT_SECONDS = 10;

  private final byte[] token;
  private final RequestRouter router;
  private final IncomingProxy incoming;
  private final OutgoingProxy outgoing;
  private final Supplier<ProtocolVersion> agentProtocol;
  private final Supplier<CompletableFuture<Void>> agentUp;
  private volatile Channel channel;
  private volatile String peer = "layer (before Hello)";
  private boolean greeted;

  /**
   * @param agentProtocol the version negotiated with the agent (or {@code CURRENT} before that):
   *     a layer's session cannot use more than the agent speaks
   */
  LayerConnectionHandler(String token, RequestRouter router, Supplier<ProtocolVersion> agentProtocol) {
    this(token, router, null, null, agentProtocol, () -> AGENT_UP);
  }

  /** The agent's handshake, already over: a layer's HelloOk waits for nothing. */
  static final CompletableFuture<Void> AGENT_UP = CompletableFuture.completedFuture(null);

  LayerConnectionHandler(
      String token,
      RequestRouter router,
      IncomingProxy incoming,
      OutgoingProxy outgoing,
      Supplier<ProtocolVersion> agentProtocol,
      Supplier<CompletableFuture<Void>> agentUp) {
    this.token = Objects.requireNonNull(token, "token").getBytes(StandardCharsets.UTF_8);
    this.router = Objects.requireNonNull(router, "router");
    this.incoming = incoming;
    this.outgoing = outgoing;
    this.agentProtocol = Objects.requireNonNull(agentProtocol, "agentProtocol");
    this.agentUp = Objects.requireNonNull(agentUp, "agentUp");
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    channel = ctx.channel();
    logger.debug("layer connected from {}", ctx.channel().remoteAddress());
    ctx.executor()
        .schedule(
            () -> {
              if (!greeted && ctx.channel().isActive()) {
                logger.warn("a layer connection sent no Hello within {} s; closing it", HELLO_TIMEOUT_SECONDS);
                ctx.close();
              }
            },
            HELLO_TIMEOUT_SECONDS,
            TimeUnit.SECONDS);
    super.channelActive(ctx);
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
    if (!greeted) {
      handshake(ctx, msg);
      return;
    }
    if (msg instanceof Session.Ping ping) {
      ctx.writeAndFlush(new Session.Pong(ping.nonce()));
    } else if (msg instanceof Session.Hello) {
      logger.warn("{} sent a second Hello; ignored", peer);
    } else if (outgoing != null && outgoing.fromLayer(this, msg)) {
      // outgoing traffic: connected in the target, relayed through a loopback endpoint
    } else if (router.fromClient(this, msg)) {
      // forwarded to the agent
    } else if (incoming != null && incoming.fromLayer(this, msg)) {
      // incoming traffic: subscribed or released in the target
    } else if (msg instanceof Tcp.PortSubscribe sub) {
      ctx.writeAndFlush(
          new Tcp.PortSubscribeResult(
              sub.port(),
              RemoteResult.err(new ResponseError.NotImplemented("incoming traffic (mirror/steal)"))));
    } else {
      logger.debug("{} sent {}, which this CLI does not route yet; dropped", peer, msg.getClass().getSimpleName());
    }
  }

  private void handshake(ChannelHandlerContext ctx, ClientMessage msg) {
    if (!(msg instanceof Session.Hello hello)) {
      logger.warn("a layer sent {} before Hello; rejected", msg.getClass().getSimpleName());
      reject(ctx, "expected Hello first, got " + msg.getClass().getSimpleName());
      return;
    }
    peer = hello.peer();
    if (!MessageDigest.isEqual(token, hello.token().getBytes(StandardCharsets.UTF_8))) {
      logger.warn("rejected '{}': wrong session token", peer);
      reject(ctx, "wrong session token: this layer does not belong to this mirrord session");
      return;
    }
    if (!ProtocolVersion.CURRENT.compatibleWith(hello.version())) {
      String reason =
          "incompatible protocol: the layer speaks "
              + hello.version()
              + ", this mirrord CLI speaks "
              + ProtocolVersion.CURRENT
              + "; use the layer jar of the same mirrord build";
      logger.warn("rejected '{}': {}", peer, reason);
      reject(ctx, reason);
      return;
    }
    greeted = true;
    CompletableFuture<Void> up = agentUp.get();
    if (up.isDone() && !up.isCompletedExceptionally()) {
      accept(ctx, hello);
      return;
    }
    // The command was started while the agent starts: this layer's HelloOk (and so its app's main) waits for the
    // agent's handshake, whose version it needs; a failed agent start rejects it with the reason.
    logger.info("layer '{}' waits for the agent's handshake", peer);
    up.whenComplete(
        (ok, err) ->
            ctx.executor()
                .execute(
                    () -> {
                      if (err == null) {
                        accept(ctx, hello);
                      } else {
                        Throwable why = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
                        logger.warn("rejected '{}': the mirrord agent did not start", peer);
                        reject(ctx, "the mirrord agent did not start: " + why.getMessage());
                      }
                    }));
  }

  private void accept(ChannelHandlerContext ctx, Session.Hello hello) {
    ProtocolVersion negotiated =
        ProtocolVersion.CURRENT.negotiate(hello.version()).negotiate(agentProtocol.get());
    logger.info("layer '{}' connected (protocol {})", peer, negotiated);
    ctx.writeAndFlush(new Session.HelloOk(negotiated, "mirrord-cli " + VersionInfo.VERSION));
    if (incoming != null) {
      incoming.layerAccepted(this); // after its HelloOk: what is handed to it comes after that
    }
  }

  private static void reject(ChannelHandlerContext ctx, String reason) {
    ctx.writeAndFlush(new Session.HelloRejected(ProtocolVersion.CURRENT, reason))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void deliver(AgentMessage message, Runnable then) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(message).addListener(f -> then.run());
    } else {
      then.run();
    }
  }

  @Override
  public void deliver(AgentMessage answer) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(answer);
    }
  }

  @Override
  public String describe() {
    return peer;
  }

  /** The peer name's prefix of a layer's connections ({@code LayerStartup.peerName}: "layer pid=N …"). */
  static final String LAYER_PID = "layer pid=";

  /** The suffix of a layer's connections that are not its main one (its start and its connects). */
  static final String CONNECTS = " (connects)";

  /** The pid of the layer's JVM, from its Hello's peer name; -1 if that does not say. */
  long layerPid() {
    return layerPid(peer);
  }

  static long layerPid(String peer) {
    if (!peer.startsWith(LAYER_PID)) {
      return -1;
    }
    int end = LAYER_PID.length();
    while (end < peer.length() && Character.isDigit(peer.charAt(end))) {
      end++;
    }
    if (end == LAYER_PID.length() || end - LAYER_PID.length() > 18) {
      return -1;
    }
    return Long.parseLong(peer, LAYER_PID.length(), end, 10);
  }

  /** Whether this is the layer's main connection, the one it reads at once (not its start or connects one). */
  boolean isMain() {
    return !peer.endsWith(CONNECTS);
  }

  /** Whether {@code a} and {@code b} are connections of the same JVM's layer. */
  static boolean sameJvm(LayerConnectionHandler a, LayerConnectionHandler b) {
    if (a == b) {
      return true;
    }
    long pid = a.layerPid();
    return pid >= 0 && pid == b.layerPid();
  }

  boolean isActive() {
    Channel ch = channel;
    return ch != null && ch.isActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    router.targetClosed(this);
    if (incoming != null) {
      incoming.layerClosed(this);
    }
    if (outgoing != null) {
      outgoing.layerClosed(this);
    }
    if (greeted) {
      logger.info("layer '{}' disconnected", peer);
    }
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      return; // layers need not ping; an idle app is fine
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.warn("closing the connection of '{}': {}", peer, cause.toString());
    ctx.close();
  }
}
