package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.podagent.iptables.PortRedirector;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.relay.EventLoops;
import dev.mirrord.jvm.protocol.relay.TcpRelay;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stealer of an agent. Per stolen port: a listener of the agent's own on an ephemeral
 * port, and a redirect from the target port to it; so the original port of every accepted
 * connection is known from the listener that accepted it, with no {@code SO_ORIGINAL_DST}.
 *
 * <p>Order matters for hand-back: on unsubscribe the redirect goes first (new connections reach
 * the target's own server at once), then connections in flight may finish within the grace period,
 * then they are closed.
 *
 * <p>Threads: subscribe/unsubscribe run iptables, so callers run them on {@code blocking}
 * (never on an event loop). A stolen port's listener and every connection it accepts live on the
 * event loop of the owning client's connection ({@link StealClient#eventLoop}): a chunk goes from
 * the stolen socket to the client's connection (and back) in one call on one thread, with no task
 * hand-off and no wake-up of another thread per message. {@code group} only runs the hand-back
 * timers.
 */
public final class TcpStealer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(TcpStealer.class);

  /** Stolen connection ids carry this bit so they never collide with mirrored ones. */
  public static final long ID_BIT = Tcp.STEAL_ID_BIT;

  private final EventLoopGroup group;
  private final PortRedirector redirector;
  private final FlushConnections flush;
  private final Duration grace;
  private final Map<Integer, StolenPort> ports = new ConcurrentHashMap<>();
  private final Map<Integer, FilteredPort> filteredPorts = new ConcurrentHashMap<>();
  /** Stolen connections and HTTP streams by id: where a client's stream messages go. */
  private final Map<Long, StolenFlow> flows = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final String sessionId;
  private final int passThroughGid;
  private volatile boolean closed;

  /** What removes the target's established flows to a port once it is redirected. */
  @FunctionalInterface
  public interface FlushConnections {
    void flush(int port);
  }

  public TcpStealer(
      EventLoopGroup group, PortRedirector redirector, FlushConnections flush, Duration grace) {
    this(group, redirector, flush, grace, "", 0);
  }

  /**
   * @param sessionId named in the redirect rules' comments, so other agents can name this session
   * @param passThroughGid the gid of the sockets that pass unmatched HTTP requests on (0: the agent's)
   */
  public TcpStealer(EventLoopGroup group, PortRedirector redirector, FlushConnections flush, Duration grace,
      String sessionId, int passThroughGid) {
    this.group = group;
    this.redirector = redirector;
    this.flush = flush;
    this.grace = grace;
    this.sessionId = sessionId;
    this.passThroughGid = passThroughGid;
  }

  private record StolenPort(int port, StealClient owner, Channel listener) {}

  /** Steals {@code port} for {@code client}. Blocking: run it off the event loops. */
  public synchronized RemoteResult<Integer> subscribe(int port, StealClient client) {
    if (closed) {
      return RemoteResult.err(new ResponseError.NotFound("stealer closed"));
    }
    StolenPort existing = ports.get(port);
    if (existing != null) {
      if (existing.owner() == client) {
        return RemoteResult.ok(port);
      }
      return RemoteResult.err(new ResponseError.PortAlreadyStolen(port));
    }
    FilteredPort filtered = filteredPorts.get(port);
    if (filtered != null) {
      return RemoteResult.err(new ResponseError.PortConflict(port, "port " + port
          + " is stolen with an HTTP filter by " + filtered.owners() + "; a whole-port steal cannot share it:"
          + " give this session an http_filter too, or stop the other one"));
    }
    try {
      for (PortRedirector.OtherSteal o : redirector.stealsByOthers()) {
        if (o.port() == port && o.filtered()) {
          return RemoteResult.err(new ResponseError.PortConflict(port, "port " + port
              + " is stolen with an HTTP filter by mirrord session " + o.session() + "; a whole-port steal cannot"
              + " share it: give this session an http_filter too, or stop the other one"));
        } else if (o.port() == port) {
          return RemoteResult.err(new ResponseError.PortAlreadyStolen(port));
        }
      }
    } catch (IOException e) {
      logger.warn("could not list other sessions' stolen ports: {}", e.getMessage());
    }
    Channel listener;
    try {
      listener = listen(port, client);
    } catch (Exception e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "agent listener for port " + port + ": " + e));
    }
    int agentPort = ((InetSocketAddress) listener.localAddress()).getPort();
    // Registered before the redirect: connections redirected while the rules are still being
    // added (IPv4 is live before IPv6 is done) must find their owner, not be closed unowned.
    StolenPort stolen = new StolenPort(port, client, listener);
    ports.put(port, stolen);
    RemoteResult<Integer> failed = redirectAndFlush(port, listener, false, () -> ports.remove(port, stolen));
    if (failed != null) {
      return failed;
    }
    logger.info("stealing port {} for {} (agent port {})", port, client.name(), agentPort);
    return RemoteResult.ok(port);
  }

  /**
   * Steals the HTTP requests to {@code port} that {@code filter} matches for {@code client} (the
   * target's server keeps the rest). Several clients may filter one port; the first whose filter
   * matches takes a request. Blocking: run it off the event loops.
   */
  public synchronized RemoteResult<Integer> subscribeFiltered(int port, StealClient client,
      dev.mirrord.jvm.podagent.http.HttpFilterMatcher filter) {
    if (closed) {
      return RemoteResult.err(new ResponseError.NotFound("stealer closed"));
    }
    StolenPort whole = ports.get(port);
    if (whole != null) {
      return RemoteResult.err(new ResponseError.PortConflict(port, "port " + port + " is stolen whole by "
          + whole.owner().name() + "; an HTTP-filtered steal cannot share it: stop that session first"));
    }
    FilteredPort existing = filteredPorts.get(port);
    if (existing != null) {
      existing.subscribe(client, filter);
      logger.info("stealing HTTP requests to port {} that match {} for {} (after {} other filter(s))", port,
          filter, client.name(), existing.subscriptions.size() - 1);
      return RemoteResult.ok(port);
    }
    try {
      for (PortRedirector.OtherSteal o : redirector.stealsByOthers()) {
        if (o.port() == port && !o.filtered()) {
          return RemoteResult.err(new ResponseError.PortConflict(port, "port " + port
              + " is stolen whole by mirrord session " + o.session() + "; an HTTP-filtered steal cannot share it:"
              + " stop that session first"));
        }
      }
    } catch (IOException e) {
      logger.warn("could not list other sessions' stolen ports: {}", e.getMessage());
    }
    FilteredPort[] holder = new FilteredPort[1];
    Channel listener;
    try {
      listener = listen(client, ch -> {
        FilteredPort fp = holder[0];
        if (fp == null || filteredPorts.get(port) != fp) {
          ch.close();
          return;
        }
        ch.config().setAutoRead(true);
        ch.pipeline().addLast("sniff", new dev.mirrord.jvm.podagent.http.ProtocolSniffer(FilteredConnection.DETECT_MILLIS));
        ch.pipeline().addLast("filter", new FilteredConnection(this, fp, newId(), passThroughGid));
      });
    } catch (Exception e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "agent listener for port " + port + ": " + e));
    }
    int agentPort = ((InetSocketAddress) listener.localAddress()).getPort();
    FilteredPort fp = new FilteredPort(port, listener);
    fp.subscribe(client, filter);
    holder[0] = fp;
    filteredPorts.put(port, fp);
    RemoteResult<Integer> failed = redirectAndFlush(port, listener, true, () -> filteredPorts.remove(port, fp));
    if (failed != null) {
      return failed;
    }
    logger.info("stealing HTTP requests to port {} that match {} for {} (agent port {})", port, filter,
        client.name(), agentPort);
    return RemoteResult.ok(port);
  }

  /**
   * Redirects {@code port} to {@code listener} and flushes the connections established before;
   * {@code null} when done, else the error (after {@code unregister} and closing the listener).
   */
  private RemoteResult<Integer> redirectAndFlush(int port, Channel listener, boolean filtered, Runnable unregister) {
    int agentPort = ((InetSocketAddress) listener.localAddress()).getPort();
    try {
      redirector.redirect(port, agentPort, comment(filtered));
    } catch (IOException | RuntimeException e) {
      unregister.run();
      listener.close();
      logger.error("could not redirect port {}: {}", port, e.getMessage());
      return RemoteResult.err(new ResponseError.Forbidden("iptables redirect of port " + port + " failed: " + e.getMessage()));
    }
    try {
      flush.flush(port);
    } catch (RuntimeException e) {
      logger.warn("could not flush established connections to port {}: {}", port, e.getMessage());
    }
    return null;
  }

  private String comment(boolean filtered) {
    return (filtered ? "mirrord-http" : "mirrord") + " session=" + (sessionId.isEmpty() ? "?" : sessionId);
  }

  /** Stops stealing {@code port} if {@code client} owns it (or removes its filter). Blocking. */
  public synchronized void unsubscribe(int port, StealClient client) {
    FilteredPort fp = filteredPorts.get(port);
    if (fp != null && fp.unsubscribe(client)) {
      logger.info("{} stopped filtering port {}", client.name(), port);
      if (fp.subscriptions.isEmpty()) {
        releaseFiltered(fp, true);
      }
      return;
    }
    StolenPort p = ports.get(port);
    if (p == null || p.owner() != client) {
      return;
    }
    release(p, true);
  }

  /** The client is gone: release its ports and close its connections now. Blocking. */
  public synchronized void clientGone(StealClient client) {
    for (StolenPort p : new ArrayList<>(ports.values())) {
      if (p.owner() == client) {
        release(p, false);
      }
    }
    for (FilteredPort fp : new ArrayList<>(filteredPorts.values())) {
      if (fp.unsubscribe(client) && fp.subscriptions.isEmpty()) {
        releaseFiltered(fp, false);
      }
    }
    for (StolenFlow f : new ArrayList<>(flows.values())) {
      if (f.owner() == client) {
        EventLoops.run(f.loop(), f::ownerGone);
      }
    }
  }

  /** The last filter of a port went: the target gets new connections at once, ours close when idle. */
  private void releaseFiltered(FilteredPort fp, boolean graceful) {
    filteredPorts.remove(fp.port, fp);
    fp.handedBack = true;
    int agentPort = ((InetSocketAddress) fp.listener.localAddress()).getPort();
    try {
      redirector.unredirect(fp.port, agentPort, comment(true));
    } catch (IOException | RuntimeException e) {
      logger.error("could not remove the redirect of port {}: {}", fp.port, e.getMessage());
    }
    fp.listener.close();
    List<FilteredConnection> open = new ArrayList<>(fp.connections);
    logger.info("handed port {} back to the target ({} filtered connections open)", fp.port, open.size());
    for (FilteredConnection c : open) {
      c.handBackLater();
    }
    if (!open.isEmpty()) {
      group.schedule(() -> open.forEach(FilteredConnection::closeNow), graceful ? grace.toMillis() : 0,
          TimeUnit.MILLISECONDS);
    }
  }

  private void release(StolenPort p, boolean graceful) {
    ports.remove(p.port());
    int agentPort = ((InetSocketAddress) p.listener().localAddress()).getPort();
    try {
      redirector.unredirect(p.port(), agentPort, comment(false));
    } catch (IOException | RuntimeException e) {
      logger.error("could not remove the redirect of port {}: {}", p.port(), e.getMessage());
    }
    p.listener().close();
    List<StolenConnection> inFlight = new ArrayList<>();
    for (StolenFlow f : flows.values()) {
      if (f instanceof StolenConnection c && c.targetPort == p.port()) {
        inFlight.add(c);
      }
    }
    logger.info("handed port {} back to the target ({} connections in flight)", p.port(), inFlight.size());
    if (!inFlight.isEmpty()) {
      long delay = graceful ? grace.toMillis() : 0;
      group.schedule(() -> inFlight.forEach(c -> c.channel.close()), delay, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A message from a client for one of its stolen connections: {@code Tcp.Data/Shutdown/Close/Flow}
   * or a {@link DataFrame} (owned from here on).
   */
  public void fromClient(StealClient client, Object message) {
    long id = message instanceof dev.mirrord.jvm.protocol.Http.Response r ? r.streamId()
        : message instanceof dev.mirrord.jvm.protocol.Http.BodyEnd e ? e.streamId()
        : DataFrame.connectionIdOf(message);
    StolenFlow f = id == 0 ? null : flows.get(id);
    if (f == null || f.owner() != client) {
      logger.debug("{} for unknown stolen connection {}", message.getClass().getSimpleName(), id);
      DataFrame.discard(message);
      return;
    }
    // On the stolen channel's own loop, in arrival order: Data before Shutdown before Close. That
    // is the client connection's loop, so this is normally a direct call.
    EventLoops.run(f.loop(), () -> f.fromOwner(message));
  }

  /** The client's connection became (un)writable: pause or resume reading its stolen sockets. */
  public void clientWritabilityChanged(StealClient client) {
    for (StolenFlow f : flows.values()) {
      if (f.owner() == client) {
        EventLoops.run(f.loop(), f::ownerWritabilityChanged);
      }
    }
  }

  /** A fresh id for a stolen connection or HTTP stream. */
  long newId() {
    return ids.incrementAndGet() | ID_BIT;
  }

  void registerFlow(StolenFlow f) {
    flows.put(f.id(), f);
  }

  void unregisterFlow(long id) {
    flows.remove(id);
  }

  public boolean owns(long connectionId) {
    return (connectionId & ID_BIT) != 0;
  }

  public java.util.Set<Integer> stolenPorts() {
    java.util.Set<Integer> all = new java.util.HashSet<>(ports.keySet());
    all.addAll(filteredPorts.keySet());
    return java.util.Set.copyOf(all);
  }

  private Channel listen(StealClient client, java.util.function.Consumer<SocketChannel> init)
      throws InterruptedException {
    ServerBootstrap b =
        new ServerBootstrap()
            .group(client.eventLoop())
            .channel(Transport.of(client.eventLoop()).serverSocketChannel())
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    init.accept(ch);
                  }
                });
    return b.bind(new InetSocketAddress(0)).sync().channel();
  }

  private Channel listen(int port, StealClient client) throws InterruptedException {
    return listen(client, ch -> {
      StealClient owner = ownerOf(port);
      if (owner == null) {
        ch.close();
        return;
      }
      ch.pipeline().addLast(new StolenConnection(newId(), port, owner, ch));
    });
  }

  private StealClient ownerOf(int port) {
    StolenPort p = ports.get(port);
    return p == null ? null : p.owner();
  }

  /**
   * The address as an IP literal without an IPv6 scope ({@code fe80:0:0:0:0:0:0:1%eth0}): the scope
   * names an interface of the target's netns and means nothing where the literal is read.
   */
  static String literal(InetAddress address) {
    String literal = address.getHostAddress();
    int scope = literal.indexOf('%');
    return scope < 0 ? literal : literal.substring(0, scope);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (StolenPort p : new ArrayList<>(ports.values())) {
      release(p, false);
    }
    List<FilteredConnection> filteredOpen = new ArrayList<>();
    for (FilteredPort fp : new ArrayList<>(filteredPorts.values())) {
      filteredOpen.addAll(fp.connections);
      releaseFiltered(fp, false);
    }
    // Wait (bounded) until the sockets are closed: the caller removes the iptables chains next,
    // and a FIN or RST sent after that would leave un-NATed and never reach its client.
    List<io.netty.channel.ChannelFuture> closing = new ArrayList<>();
    for (StolenFlow f : flows.values()) {
      if (f instanceof StolenConnection c) {
        closing.add(c.channel.close());
      }
    }
    filteredOpen.forEach(c -> closing.add(c.closeNow()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (io.netty.channel.ChannelFuture f : closing) {
      try {
        f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (io.netty.util.concurrent.BlockingOperationException e) {
        return; // called on an event loop: cannot wait there; the closes are queued already
      }
    }
  }

  /** One stolen connection: the real client's socket in the target, relayed to a client session. */
  private final class StolenConnection extends TcpRelay implements StolenFlow {
    final int targetPort;
    final StealClient owner;
    final Channel channel;

    StolenConnection(long id, int targetPort, StealClient owner, Channel channel) {
      super(id, new TcpRelay.Peer() {
        @Override
        public void send(dev.mirrord.jvm.protocol.Message message) {
          owner.send((dev.mirrord.jvm.protocol.AgentMessage) message);
        }

        @Override
        public void sendData(long id, io.netty.buffer.ByteBuf bytes) {
          owner.sendData(id, bytes);
        }

        @Override
        public boolean writable() {
          return owner.writable();
        }
      });
      this.targetPort = targetPort;
      this.owner = owner;
      this.channel = channel;
    }

    @Override
    public StealClient owner() {
      return owner;
    }

    @Override
    public io.netty.channel.EventLoop loop() {
      return channel.eventLoop();
    }

    @Override
    public void fromOwner(Object message) {
      fromPeer(message);
    }

    @Override
    public void ownerWritabilityChanged() {
      updateAutoRead();
    }

    @Override
    public void ownerGone() {
      channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      flows.put(id(), this);
      InetSocketAddress src = (InetSocketAddress) channel.remoteAddress();
      InetSocketAddress dst = (InetSocketAddress) channel.localAddress();
      owner.send(
          new Tcp.NewConnection(
              id(),
              IncomingMode.STEAL,
              targetPort,
              literal(src.getAddress()),
              src.getPort(),
              literal(dst.getAddress()),
              targetPort));
      attach(channel);
      ctx.fireChannelActive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("stolen connection {}: {}", id(), cause.toString());
      super.exceptionCaught(ctx, cause);
    }

    @Override
    protected void ended() {
      flows.remove(id());
    }
  }
}
