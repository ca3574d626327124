package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.function.IntUnaryOperator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI's session proxy (mirrord's intproxy): a listener on {@code 127.0.0.1:<ephemeral>} for the
 * layers ({@link Side#AGENT}) and one connection to the pod agent ({@link Side#CLIENT}, unix domain
 * socket or TCP) that every layer's requests share; see {@link RequestRouter}. One event-loop
 * thread, a daemon: it never keeps the CLI alive.
 */
public final class SessionProxy implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(SessionProxy.class);

  private final String token;
  private final UserNotices notices;
  private final Transport transport;
  private final EventLoopGroup group;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  /** The layers' connections (a subset of {@link #channels}). */
  private final ChannelGroup layers = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final RequestRouter router = new RequestRouter();
  private final IncomingProxy incoming;
  private final OutgoingProxy outgoing;
  private final RelayAddresses relayAddresses;
  private volatile Channel listener;
  private volatile ProtocolVersion agentProtocol = ProtocolVersion.CURRENT;
  /** Completes when the agent's handshake ends; fails with it, or with {@link #agentFailed}. */
  private final CompletableFuture<Void> agentUp = new CompletableFuture<>();
  /** Whether a layer's HelloOk waits for {@link #agentUp} ({@link #holdLayersUntilAgent}). */
  private volatile boolean holdLayers;
  private volatile boolean closing;
  /** Completes when the agent connection closes while the proxy is not closing. */
  private final CompletableFuture<Void> agentGone = new CompletableFuture<>();
  private volatile boolean endAppOnAgentLoss;

  private SessionProxy(
      String token,
      UserNotices notices,
      IntUnaryOperator localPortFor,
      Transport transport,
      RelayAddresses relayAddresses,
      HttpFilterPolicy httpFilter) {
    this.token = Objects.requireNonNull(token, "token");
    this.notices = Objects.requireNonNull(notices, "notices");
    this.transport = Objects.requireNonNull(transport, "transport");
    this.relayAddresses = Objects.requireNonNull(relayAddresses, "relayAddresses");
    this.group = transport.newGroup(1, new DefaultThreadFactory("mirrord-proxy", true));
    this.incoming = new IncomingProxy(group, localPortFor, relayAddresses, notices, httpFilter);
    this.incoming.agentVersion(() -> agentProtocol);
    this.outgoing = new OutgoingProxy(group, router, relayAddresses.v4());
  }

  /** Binds the layer listener on an ephemeral loopback port; target ports map to themselves. */
  public static SessionProxy start(String token, UserNotices notices) {
    return start(token, notices, IntUnaryOperator.identity());
  }

  /**
   * Binds the layer listener on an ephemeral loopback port.
   *
   * @param localPortFor the app's local port for a target port ({@code --port-map} inverted)
   */
  public static SessionProxy start(String token, UserNotices notices, IntUnaryOperator localPortFor) {
    return start(token, notices, localPortFor, Transport.preferred());
  }

  /** As {@link #start(String, UserNotices, IntUnaryOperator)}, on {@code transport} (tests). */
  static SessionProxy start(
      String token, UserNotices notices, IntUnaryOperator localPortFor, Transport transport) {
    return start(token, notices, localPortFor, transport, RelayAddresses.pick(), HttpFilterPolicy.NONE);
  }

  /** As {@link #start(String, UserNotices, IntUnaryOperator)}, stealing (or mirroring) with {@code httpFilter}. */
  public static SessionProxy start(
      String token, UserNotices notices, IntUnaryOperator localPortFor, HttpFilterPolicy httpFilter) {
    return start(token, notices, localPortFor, Transport.preferred(), RelayAddresses.pick(), httpFilter);
  }

  /** As {@link #start(String, UserNotices, IntUnaryOperator, Transport)}, with given relay addresses (tests). */
  static SessionProxy start(
      String token,
      UserNotices notices,
      IntUnaryOperator localPortFor,
      Transport transport,
      RelayAddresses relayAddresses) {
    return start(token, notices, localPortFor, transport, relayAddresses, HttpFilterPolicy.NONE);
  }

  static SessionProxy start(
      String token,
      UserNotices notices,
      IntUnaryOperator localPortFor,
      Transport transport,
      RelayAddresses relayAddresses,
      HttpFilterPolicy httpFilter) {
    SessionProxy proxy = new SessionProxy(token, notices, localPortFor, transport, relayAddresses, httpFilter);
    try {
      proxy.bind();
      return proxy;
    } catch (RuntimeException e) {
      proxy.close();
      throw e;
    }
  }

  private void bind() {
    listener =
        new ServerBootstrap()
            .group(group)
            .channel(transport.serverSocketChannel())
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    channels.add(ch);
                    layers.add(ch);
                    ProtocolPipeline.install(
                        ch.pipeline(),
                        Side.AGENT,
                        new LayerConnectionHandler(
                            token, router, incoming, outgoing, () -> agentProtocol, () -> holdLayers ? agentUp : LayerConnectionHandler.AGENT_UP));
                  }
                })
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .syncUninterruptibly()
            .channel();
    channels.add(listener);
    logger.info("session proxy listening on {} ({})", listener.localAddress(), transport);
  }

  /** The transport of the proxy's event loop, and so of all its sockets. */
  Transport transport() {
    return transport;
  }

  /** Where this session's connections to the app come from ({@code incoming.relay.*} in the session file). */
  public RelayAddresses relayAddresses() {
    return relayAddresses;
  }

  /** The port layers connect to ({@code proxy.port} in the session file). */
  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /**
   * Connects to the agent and performs the CLI's handshake.
   *
   * @return completes with the agent's {@code HelloOk}; fails with a {@link MirrordException}
   *     (PROTOCOL on {@code HelloRejected}, AGENT_FAILED if the connection fails)
   */
  public CompletableFuture<Session.HelloOk> connectAgent(SocketAddress address) {
    return connectAgent(address, token);
  }

  /**
   * As {@link #connectAgent(SocketAddress)}, authenticating with {@code agentToken} (an agent kept
   * from an earlier session has its own token; the layers still use the session's).
   */
  public CompletableFuture<Session.HelloOk> connectAgent(SocketAddress address, String agentToken) {
    AgentConnectionHandler handler =
        new AgentConnectionHandler(agentToken, router, incoming, outgoing, notices, () -> closing, this::agentLost);
    CompletableFuture<Session.HelloOk> result = new CompletableFuture<>();
    new Bootstrap()
        .group(group)
        .channel(transport.streamChannelFor(address))
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                channels.add(ch);
                ProtocolPipeline.installRelaying(ch.pipeline(), Side.CLIENT, handler);
              }
            })
        .connect(transport.address(address))
        .addListener(
            f -> {
              if (f.isSuccess()) {
                ((io.netty.channel.ChannelFuture) f)
                    .channel()
                    .closeFuture()
                    .addListener(
                        c -> {
                          if (!closing) {
                            agentGone.complete(null);
                          }
                        });
              } else {
                result.completeExceptionally(
                    new MirrordException(
                        ExitCode.AGENT_FAILED,
                        "cannot connect to the mirrord agent at "
                            + address
                            + " ("
                            + f.cause().getMessage()
                            + "); see the agent log"));
              }
            });
    handler
        .handshake()
        .whenComplete(
            (ok, err) -> {
              if (err != null) {
                agentUp.completeExceptionally(err);
                result.completeExceptionally(err);
              } else {
                agentProtocol = ok.negotiated();
                agentUp.complete(null);
                result.complete(ok);
              }
            });
    return result;
  }

  /**
   * A layer that says Hello gets its HelloOk only once the agent's handshake ({@link #connectAgent})
   * has ended (at once if it already has): the session's command may start while the agent starts.
   * Call it before the session file is written.
   */
  public void holdLayersUntilAgent() {
    holdLayers = true;
  }

  /** The agent will not come: the layers held by {@link #holdLayersUntilAgent} are rejected with {@code why}'s message. */
  public void agentFailed(Throwable why) {
    agentUp.completeExceptionally(why);
  }

  /**
   * Sends one of the CLI's own correlated requests (its id is ignored and remapped).
   *
   * @return the answer, with the request's original id; fails if the answer type is unexpected
   */
  public <A extends AgentMessage> CompletableFuture<A> request(ClientMessage request, Class<A> answerType) {
    CompletableFuture<A> answer = new CompletableFuture<>();
    ReplyTarget self =
        new ReplyTarget() {
          @Override
          public void deliver(AgentMessage msg) {
            if (answerType.isInstance(msg)) {
              answer.complete(answerType.cast(msg));
            } else {
              answer.completeExceptionally(
                  new IllegalStateException("expected " + answerType.getSimpleName() + ", got " + msg));
            }
          }

          @Override
          public String describe() {
            return "cli";
          }
        };
    if (!router.fromClient(self, request)) {
      answer.completeExceptionally(
          new IllegalArgumentException(request.getClass().getSimpleName() + " is not a routed request"));
    }
    return answer;
  }

  /**
   * Completes when the connection to the agent is lost (the agent exited or was killed, the
   * port-forward dropped); never when {@link #close()} ends it.
   */
  public CompletableFuture<Void> agentGone() {
    return agentGone;
  }

  /**
   * With {@code true} ({@code layer.on_disconnect=exit}), losing the agent ends the session: every
   * layer is told why (an {@code AgentLog} at ERROR, which its stderr line quotes) and its connection
   * is closed, so each JVM ends with the layer's exit code instead of running on without mirrord.
   */
  public void endAppOnAgentLoss(boolean end) {
    this.endAppOnAgentLoss = end;
  }

  /** The agent connection was lost: the warning for the user, after ending the layers if asked to. */
  private String agentLost() {
    if (!endAppOnAgentLoss) {
      return AgentConnectionHandler.LOST_WARNING;
    }
    Channel l = listener;
    if (l != null) {
      l.close(); // a JVM started from now on has no session to join
    }
    Session.AgentLog why =
        new Session.AgentLog(Session.AgentLog.Level.ERROR, "the mirrord CLI lost its connection to the mirrord agent");
    for (Channel layer : layers) {
      layer.writeAndFlush(why).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
    return AGENT_LOST_ENDING;
  }

  static final String AGENT_LOST_ENDING =
      "lost the connection to the agent; ending the app so that it does not run on without mirrord"
          + " (set layer.on_disconnect=continue to keep it running)";

  /** Whether the agent connection is up. */
  public boolean agentConnected() {
    return router.agentAvailable();
  }

  /** Closes every connection and the event loop; no "lost connection" warning. Never throws. */
  @Override
  public void close() {
    closing = true;
    incoming.logHttpCounts();
    try {
      channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
  }
}
