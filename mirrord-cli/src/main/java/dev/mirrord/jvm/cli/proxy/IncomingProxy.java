package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.relay.EventLoops;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Incoming traffic on the CLI side (the role of mirrord's intproxy incoming proxy). Layers
 * subscribe target ports through here; for every connection the agent announces, the CLI opens a
 * real TCP connection to the app's local listener ({@code 127.0.0.1:<local port>}, from the
 * session's own {@link RelayAddresses#v4()}; {@code [::1]:<local port>} from a port of the
 * session's IPv6 range when the app listens on {@code ::1} only) and relays:
 *
 * <ul>
 *   <li><b>steal</b>: both ways, with half-close, reset and back-pressure ({@code Tcp.Flow}) both
 *       ways: a slow app pauses the target's client, a slow agent link pauses the app;
 *   <li><b>mirror</b>: the target's bytes to the app, in order; the app's answers are read and
 *       dropped.
 * </ul>
 *
 * All state is touched on the proxy's one event loop.
 */
final class IncomingProxy {
  private static final Logger logger = LoggerFactory.getLogger(IncomingProxy.class);

  /** Mirrored bytes buffered while the app's socket cannot take them; past this, the copy is cut. */
  static final int MIRROR_BUFFER_LIMIT = 32 * 1024 * 1024;

  /** How long a mirrored connection whose remote flow ended may take to finish with the app. */
  static final long MIRROR_DRAIN_SECONDS = 60;

  private final EventLoopGroup group;
  private final Transport transport;
  private final IntUnaryOperator localPortFor;
  /** How relays and the HTTP gateways reach the app. */
  private final AppDialer dialer;
  private final UserNotices notices;
  private final AgentLink agent = new AgentLink();

  /** Target port → the layer that subscribed it. */
  private final Map<Integer, Subscription> subscriptions = new ConcurrentHashMap<>();

  /**
   * Each layer JVM's main connection by its pid, completed once it has greeted (see {@link #layerAccepted}). A layer
   * subscribes its first ports on its start connection while its main one comes up; those subscriptions pass to the
   * main connection then, and what the CLI tells the layer for them ({@code IncomingPeer}) waits for it.
   */
  private final Map<Long, CompletableFuture<LayerConnectionHandler>> mains = new ConcurrentHashMap<>();

  /** How long a dial for a start connection's subscription waits for its JVM's main connection. */
  static final long MAIN_WAIT_MILLIS = 5_000;

  /** Answers to forward: target port → the layer waiting for PortSubscribeResult. */
  private final Map<Integer, LayerConnectionHandler> pendingSubscribes = new ConcurrentHashMap<>();

  private final Map<Long, Relay> relays = new ConcurrentHashMap<>();

  /** Which target ports are stolen or mirrored with an HTTP filter (none by default). */
  private final HttpFilterPolicy httpFilter;

  /** Matched HTTP requests, replayed to the app. */
  private final HttpGateway gateway;

  /** The protocol version the agent speaks (HTTP filters need {@link Http#SINCE}). */
  private volatile java.util.function.Supplier<dev.mirrord.jvm.protocol.ProtocolVersion> agentVersion =
      () -> dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT;

  private final class Subscription {
    final int targetPort;
    final int localPort;
    final IncomingMode mode;
    /** The connection that owns it: released when that one closes; its JVM's main one once that is up. */
    volatile LayerConnectionHandler layer;
    Subscription(int targetPort, int localPort, IncomingMode mode, LayerConnectionHandler layer) {
      this.targetPort = targetPort;
      this.localPort = localPort;
      this.mode = mode;
      this.layer = layer;
    }

    /** Where the layer is told a dial's client: its main connection, waited for if it is not up yet. */
    LayerPeers peers() {
      LayerConnectionHandler owner = layer;
      return owner.isMain() || owner.layerPid() < 0 ? owner : new ToMainWhenUp(owner);
    }

    int targetPort() {
      return targetPort;
    }

    int localPort() {
      return localPort;
    }

    IncomingMode mode() {
      return mode;
    }

    LayerConnectionHandler layer() {
      return layer;
    }
  }

  IncomingProxy(
      EventLoopGroup group,
      IntUnaryOperator localPortFor,
      RelayAddresses relayAddresses,
      UserNotices notices) {
    this(group, localPortFor, relayAddresses, notices, HttpFilterPolicy.NONE);
  }

  IncomingProxy(
      EventLoopGroup group,
      IntUnaryOperator localPortFor,
      RelayAddresses relayAddresses,
      UserNotices notices,
      HttpFilterPolicy httpFilter) {
    this.group = group;
    this.transport = Transport.of(group);
    this.localPortFor = localPortFor;
    this.notices = notices;
    this.httpFilter = httpFilter;
    this.dialer = new AppDialer(relayAddresses);
    this.gateway = new HttpGateway(group, localPortFor, dialer, agent, port -> {
      Subscription s = subscriptions.get(port);
      return s == null ? null : s.peers();
    });
  }

  /** Logs the matched HTTP requests per port (at the end of a session). */
  void logHttpCounts() {
    gateway.logCounts();
  }

  void agentVersion(java.util.function.Supplier<dev.mirrord.jvm.protocol.ProtocolVersion> version) {
    this.agentVersion = version;
  }

  void agentConnected(Channel channel) {
    agent.connected(channel);
  }

  /** Handles a layer's incoming-family message; false if it is not one. */
  boolean fromLayer(LayerConnectionHandler layer, Object msg) {
    if (msg instanceof Tcp.PortSubscribe sub) {
      if (!agent.active()) {
        layer.deliver(new Tcp.PortSubscribeResult(sub.port(),
            RemoteResult.err(new ResponseError.RemoteIo(0, "no connection to the mirrord agent"))));
        return true;
      }
      Subscription existing = subscriptions.get(sub.port());
      if (existing != null && !LayerConnectionHandler.sameJvm(existing.layer(), layer)) {
        layer.deliver(new Tcp.PortSubscribeResult(sub.port(),
            RemoteResult.err(new ResponseError.PortAlreadyStolen(sub.port()))));
        notices.error("port " + sub.port() + " is already subscribed by another JVM of this session ("
            + existing.layer().describe() + "); close that listener first");
        return true;
      }
      Http.Filter filter = httpFilter.filterFor(sub.port());
      if (filter != null && agentVersion.get().compareTo(Http.SINCE) < 0) {
        layer.deliver(new Tcp.PortSubscribeResult(sub.port(), RemoteResult.err(new ResponseError.NotImplemented(
            "HTTP filters (agent protocol " + agentVersion.get() + ", needs " + Http.SINCE + ")"))));
        notices.error("the mirrord agent is too old for http_filter (protocol " + agentVersion.get()
            + "); use the agent of this CLI's build");
        return true;
      }
      pendingSubscribes.put(sub.port(), layer);
      synchronized (mains) { // against a hand-over to the main connection now (layerAccepted)
        subscriptions.put(sub.port(),
            new Subscription(sub.port(), localPortFor.applyAsInt(sub.port()), sub.mode(), owner(layer)));
      }
      if (filter != null) {
        agent.send(new Http.SubscribeFiltered(sub.port(), sub.mode(), filter));
        logger.info("{} target port {} with the HTTP filter {}", sub.mode() == IncomingMode.STEAL ? "stealing"
            : "mirroring", sub.port(), httpFilter.describe());
      } else {
        agent.send(sub);
      }
      return true;
    }
    if (msg instanceof Tcp.PortUnsubscribe unsub) {
      Subscription s = subscriptions.get(unsub.port());
      if (s != null && LayerConnectionHandler.sameJvm(s.layer(), layer)) {
        subscriptions.remove(unsub.port());
        agent.send(unsub);
        logger.info("target port {} unsubscribed by {}", unsub.port(), layer.describe());
      }
      return true;
    }
    return false;
  }

  /** Handles an agent message of the incoming family; false if it is not one. */
  boolean fromAgent(AgentMessage msg) {
    if (msg instanceof Tcp.PortSubscribeResult r) {
      LayerConnectionHandler layer = pendingSubscribes.remove(r.port());
      Subscription s = subscriptions.get(r.port());
      if (r.result().isOk()) {
        if (s != null) {
          logger.info("{} target port {} → local port {} for {}",
              s.mode() == IncomingMode.STEAL ? "stealing" : "mirroring", r.port(), s.localPort(),
              s.layer().describe());
        }
      } else {
        subscriptions.remove(r.port());
        ResponseError e = ((RemoteResult.Err<Integer>) r.result()).error();
        notices.error(e.describe() + (e instanceof ResponseError.PortAlreadyStolen
            ? "; stop the other mirrord session first" : ""));
      }
      if (layer != null) {
        layer.deliver(r);
      }
      return true;
    }
    if (msg instanceof Tcp.NewConnection nc) {
      newConnection(nc);
      return true;
    }
    if (msg instanceof Http.Request r) {
      gateway.request(r);
      return true;
    }
    if (msg instanceof Http.BodyEnd e) {
      gateway.fromAgent(e);
      return true;
    }
    if (Tcp.connectionIdOf(msg) == 0) {
      return false;
    }
    toRelay(msg);
    return true;
  }

  /** {@code Tcp.Data} from the agent as a {@link DataFrame}, for a mirrored or stolen connection; takes ownership. */
  void fromAgent(DataFrame data) {
    toRelay(data);
  }

  /** A stream message or {@link DataFrame} to its connection's relay; dropped (released) for an unknown id. */
  private void toRelay(Object msg) {
    long id = DataFrame.connectionIdOf(msg);
    Relay relay = relays.get(id);
    if (relay != null) {
      relay.fromAgent(msg);
    } else if (gateway.fromAgent(msg)) {
      // a matched HTTP request's stream, or the end of its client connection
    } else {
      logger.debug("{} for unknown connection {}", msg.getClass().getSimpleName(), id);
      DataFrame.discard(msg);
    }
  }

  /** Who owns what {@code from} subscribes: its JVM's main connection if that is up, else {@code from}. */
  private LayerConnectionHandler owner(LayerConnectionHandler from) {
    if (from.isMain()) {
      return from;
    }
    CompletableFuture<LayerConnectionHandler> main = mains.get(from.layerPid());
    LayerConnectionHandler m = main == null ? null : main.getNow(null);
    return m != null && m.isActive() ? m : from;
  }

  /**
   * A layer connection was accepted: if it is a JVM's main connection, the ports its start connection subscribed
   * pass to it, and the dials that wait for it go on.
   */
  void layerAccepted(LayerConnectionHandler layer) {
    long pid = layer.layerPid();
    if (!layer.isMain() || pid < 0) {
      return;
    }
    CompletableFuture<LayerConnectionHandler> up;
    synchronized (mains) {
      up = mains.computeIfAbsent(pid, p -> new CompletableFuture<>());
      if (up.isDone()) { // an earlier main connection of that JVM
        up = new CompletableFuture<>();
        mains.put(pid, up);
      }
      for (Subscription s : subscriptions.values()) {
        LayerConnectionHandler owner = s.layer();
        if (owner != layer && !owner.isMain() && owner.layerPid() == pid) {
          s.layer = layer;
          logger.info("target port {}: passed from the start connection of '{}' to its main connection",
              s.targetPort(), layer.describe());
        }
      }
      up.complete(layer); // in the lock: a subscription after it sees this main connection (owner)
    }
  }

  /**
   * {@link LayerPeers} of a subscription its JVM's start connection owns: each message goes to the JVM's main
   * connection once that is up (the start connection is read only when the layer uses it), or after {@link
   * #MAIN_WAIT_MILLIS} to the start connection (then the app may see the session's loopback source as its peer).
   */
  private final class ToMainWhenUp implements LayerPeers {
    private final LayerConnectionHandler start;
    private final CompletableFuture<LayerConnectionHandler> main;

    ToMainWhenUp(LayerConnectionHandler start) {
      this.start = start;
      CompletableFuture<LayerConnectionHandler> up;
      synchronized (mains) {
        up = mains.computeIfAbsent(start.layerPid(), p -> new CompletableFuture<>());
      }
      this.main = up.copy().completeOnTimeout(start, MAIN_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public void deliver(AgentMessage message, Runnable then) {
      main.thenAccept(to -> (to.isActive() ? to : start).deliver(message, then));
    }

    @Override
    public void deliver(AgentMessage message) {
      main.thenAccept(to -> (to.isActive() ? to : start).deliver(message));
    }
  }

  /** A layer went away: its ports are released in the target. */
  void layerClosed(LayerConnectionHandler layer) {
    long pid = layer.layerPid();
    if (layer.isMain() && pid >= 0) {
      synchronized (mains) {
        CompletableFuture<LayerConnectionHandler> main = mains.get(pid);
        if (main != null && main.getNow(null) == layer) {
          mains.remove(pid);
        }
      }
    }
    pendingSubscribes.values().removeIf(l -> l == layer);
    for (Subscription s : new ArrayList<>(subscriptions.values())) {
      if (s.layer() == layer) {
        subscriptions.remove(s.targetPort());
        agent.send(new Tcp.PortUnsubscribe(s.targetPort()));
        logger.info("target port {} released: {} disconnected", s.targetPort(), layer.describe());
      }
    }
  }

  /** The agent link is gone: every relay ends. */
  void agentLost() {
    agent.lost();
    gateway.agentLost();
    for (Relay r : relays.values()) {
      r.local.close();
    }
    subscriptions.clear();
    pendingSubscribes.clear();
  }

  /** The agent link's writability changed: pause or resume reading the app's stolen sockets. */
  void agentWritabilityChanged() {
    for (Relay r : relays.values()) {
      EventLoops.run(r.local.eventLoop(), r::updateAutoRead);
    }
    gateway.agentWritabilityChanged();
  }

  private void newConnection(Tcp.NewConnection nc) {
    Subscription s = subscriptions.get(nc.targetPort());
    if (s == null) {
      logger.debug("connection {} to unsubscribed port {}; refused", nc.connectionId(), nc.targetPort());
      if (nc.mode() == IncomingMode.STEAL) {
        agent.send(new Tcp.Close(nc.connectionId(), true));
      }
      return;
    }
    Relay relay = new Relay(nc, s.peers());
    relays.put(nc.connectionId(), relay);
    dial(relay, s);
    logger.debug("{} connection {} from {}:{} to target port {} → local port {}", nc.mode(),
        nc.connectionId(), nc.sourceAddress(), nc.sourcePort(), nc.targetPort(), s.localPort());
  }

  /**
   * Reaches the app for {@code relay} the way every CLI socket to the app does ({@link AppDialer}):
   * from the session's source, with the layer told which real client that source port stands for.
   */
  private void dial(Relay relay, Subscription s) {
    Tcp.NewConnection nc = relay.nc;
    dialer.dial(s.localPort(), relay.layer, nc.sourceAddress(), nc.sourcePort(), source -> {
      ChannelFuture bound =
          new Bootstrap()
              .group(group)
              .channel(transport.socketChannel())
              .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
              .option(ChannelOption.AUTO_READ, false)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
              .handler(relay)
              .bind(source);
      relay.local = bound.channel();
      return bound;
    }, (ch, cliPort, failure) -> {
      if (failure != null) {
        failed(relay, s, failure);
        return;
      }
      relay.cliPort = cliPort;
      relay.connected();
    });
  }

  private void failed(Relay relay, Subscription s, Throwable cause) {
    Tcp.NewConnection nc = relay.nc;
    logger.warn("cannot reach the app on local port {} for a {} connection from {}:{}: {}",
        s.localPort(), nc.mode().name().toLowerCase(java.util.Locale.ROOT), nc.sourceAddress(),
        nc.sourcePort(), cause.getMessage());
    relays.remove(nc.connectionId());
    relay.local.close();
    EventLoops.run(relay.local.eventLoop(), () -> {
      relay.early.forEach(DataFrame::discard);
      relay.early.clear();
    });
    if (nc.mode() == IncomingMode.STEAL) {
      agent.send(new Tcp.Close(nc.connectionId(), true));
    }
  }

  /**
   * One incoming connection: the agent's side by id, the app's side as a local socket. Sharable
   * only in that a failed try's socket (never active) is followed by the next try's.
   */
  @io.netty.channel.ChannelHandler.Sharable
  private final class Relay extends ChannelInboundHandlerAdapter {
    final Tcp.NewConnection nc;
    final LayerPeers layer;
    final boolean steal;
    Channel local;
    int cliPort;
    boolean connected;
    boolean pausedByAgent;
    boolean closeSent;
    /** Mirror: the remote flow ended; our side is half-closed and we wait for the app to close. */
    boolean draining;
    /** Mirror: the remote flow ended (or half-closed) and our side is to be half-closed once the app is done. */
    boolean halfClosePending;
    /** Mirror of an h2c connection: the streams the app has not finished (null for steal). */
    final MirroredH2Streams h2;
    /** What the agent sent before the local connect finished. */
    final Queue<Object> early = new ArrayDeque<>();
    long earlyBytes;

    Relay(Tcp.NewConnection nc, LayerPeers layer) {
      this.nc = nc;
      this.layer = layer;
      this.steal = nc.mode() == IncomingMode.STEAL;
      this.h2 = steal ? null : new MirroredH2Streams();
    }

    void connected() {
      connected = true;
      Object m;
      while ((m = early.poll()) != null) {
        apply(m);
      }
      updateAutoRead();
    }

    void fromAgent(Object msg) {
      EventLoops.run(local.eventLoop(), () -> {
        if (!connected && !local.isOpen()) {
          DataFrame.discard(msg); // the local side failed or was cut
          return;
        }
        if (!connected) {
          early.add(msg);
          int size = DataFrame.dataSize(msg);
          if (size > 0) {
            earlyBytes += size;
            if (!steal && earlyBytes > MIRROR_BUFFER_LIMIT) {
              cutMirror("app did not accept the connection in time");
            }
          }
          return;
        }
        apply(msg);
      });
    }

    private void apply(Object msg) {
      if (DataFrame.isData(msg)) {
        ByteBuf bytes = DataFrame.bytesOf(msg);
        if (h2 != null) {
          h2.toApp(bytes);
        }
        local.writeAndFlush(bytes);
        if (!steal && !local.isWritable()
            && local.unsafe().outboundBuffer() != null
            && local.unsafe().outboundBuffer().totalPendingWriteBytes() > MIRROR_BUFFER_LIMIT) {
          cutMirror("the app reads too slowly");
        }
      } else if (msg instanceof Tcp.Shutdown) {
        if (steal) {
          local.writeAndFlush(Unpooled.EMPTY_BUFFER)
              .addListener(f -> ((SocketChannel) local).shutdownOutput());
        } else {
          halfCloseWhenAppDone();
        }
      } else if (msg instanceof Tcp.Close c) {
        closeSent = true;
        relays.remove(nc.connectionId());
        if (c.reset() && steal) {
          local.config().setOption(ChannelOption.SO_LINGER, 0);
          local.close();
        } else if (!steal) {
          // Mirror: the app may not have read everything yet (a mirrored copy lags behind the
          // target). Closing now would answer its next response with a RST, and the RST makes its
          // kernel discard the requests it has not read. So: half-close, keep reading (and
          // dropping) its answers, and close once the app closes, or after a bound. A reset of the
          // remote flow is handled the same way: the requests captured before it reached the
          // target, and their copies must reach the app too (clients such as wrk end with a RST
          // whenever an answer is still unread).
          // An h2c copy is half-closed only once the app has answered every stream it was given
          // (MirroredH2Streams: an HTTP/2 server cancels its open streams at the end of input).
          draining = true;
          halfCloseWhenAppDone();
          local.eventLoop().schedule(() -> {
            local.close();
          }, MIRROR_DRAIN_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        } else {
          local.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> local.close());
        }
      } else if (msg instanceof Tcp.Flow f) {
        pausedByAgent = f.paused();
        updateAutoRead();
      }
    }

    /** Mirror: half-closes our side now, or once the app has finished the h2c streams it was given. */
    private void halfCloseWhenAppDone() {
      if (h2 != null && !h2.appDone()) {
        if (!halfClosePending) {
          logger.debug("mirrored connection {}: the remote flow ended; waiting for the app to finish {} h2c streams",
              nc.connectionId(), h2.openStreams());
        }
        halfClosePending = true;
        return;
      }
      halfClosePending = false;
      local.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
        if (local.isActive()) {
          ((SocketChannel) local).shutdownOutput();
        }
      });
    }

    private void cutMirror(String why) {
      logger.warn("mirrored connection {} from {}:{} cut: {}", nc.connectionId(), nc.sourceAddress(),
          nc.sourcePort(), why);
      relays.remove(nc.connectionId());
      early.forEach(DataFrame::discard);
      early.clear();
      local.close();
    }

    void updateAutoRead() {
      if (connected && local.isActive()) {
        boolean read = !steal || (!pausedByAgent && agent.writable());
        local.config().setAutoRead(read);
        if (read) {
          local.read();
        }
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        if (!steal) {
          // mirror: the app's answer goes nowhere (an h2c copy's answers tell which streams it finished)
          if (h2 != null) {
            h2.fromApp(buf);
            if (halfClosePending && h2.appDone()) {
              halfCloseWhenAppDone();
            }
          }
          return;
        }
        while (buf.isReadable()) {
          agent.sendData(nc.connectionId(), buf.readRetainedSlice(Math.min(buf.readableBytes(), Tcp.MAX_CHUNK)));
        }
      } finally {
        buf.release();
      }
      if (!agent.writable()) {
        local.config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (steal) {
        agent.send(new Tcp.Flow(nc.connectionId(), !local.isWritable()));
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent && steal) {
        agent.send(new Tcp.Shutdown(nc.connectionId()));
      } else if (evt instanceof ChannelInputShutdownEvent && draining) {
        ctx.close(); // the app is done with the mirrored copy
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      relays.remove(nc.connectionId());
      if (h2 != null) {
        h2.close();
      }
      if (cliPort > 0) {
        layer.deliver(Tcp.IncomingPeer.forget(cliPort));
      }
      if (steal && !closeSent) {
        closeSent = true;
        agent.send(new Tcp.Close(nc.connectionId(), false));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("local side of connection {}: {}", nc.connectionId(), cause.toString());
      relays.remove(nc.connectionId());
      if (steal && !closeSent) {
        closeSent = true;
        agent.send(new Tcp.Close(nc.connectionId(), true));
      }
      ctx.close();
    }
  }
}
