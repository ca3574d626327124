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
  private final Map<Long, StolenConnection> connections = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile boolean closed;

  /** What removes the target's established flows to a port once it is redirected. */
  @FunctionalInterface
  public interface FlushConnections {
    void flush(int port);
  }

  public TcpStealer(
      EventLoopGroup group, PortRedirector redirector, FlushConnections flush, Duration grace) {
    this.group = group;
    this.redirector = redirector;
    this.flush = flush;
    this.grace = grace;
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
    try {
      if (redirector.portsStolenByOthers().contains(port)) {
        return RemoteResult.err(new ResponseError.PortAlreadyStolen(port));
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
    try {
      redirector.redirect(port, agentPort);
    } catch (IOException | RuntimeException e) {
      ports.remove(port, stolen);
      listener.close();
      logger.error("could not redirect port {}: {}", port, e.getMessage());
      return RemoteResult.err(new ResponseError.Forbidden("iptables redirect of port " + port + " failed: " + e.getMessage()));
    }
    try {
      flush.flush(port);
    } catch (RuntimeException e) {
      logger.warn("could not flush established connections to port {}: {}", port, e.getMessage());
    }
    logger.info("stealing port {} for {} (agent port {})", port, client.name(), agentPort);
    return RemoteResult.ok(port);
  }

  /** Stops stealing {@code port} if {@code client} owns it. Blocking. */
  public synchronized void unsubscribe(int port, StealClient client) {
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
    for (StolenConnection c : new ArrayList<>(connections.values())) {
      if (c.owner == client) {
        c.channel.close();
      }
    }
  }

  private void release(StolenPort p, boolean graceful) {
    ports.remove(p.port());
    int agentPort = ((InetSocketAddress) p.listener().localAddress()).getPort();
    try {
      redirector.unredirect(p.port(), agentPort);
    } catch (IOException | RuntimeException e) {
      logger.error("could not remove the redirect of port {}: {}", p.port(), e.getMessage());
    }
    p.listener().close();
    List<StolenConnection> inFlight = new ArrayList<>();
    for (StolenConnection c : connections.values()) {
      if (c.targetPort == p.port()) {
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
    long id = DataFrame.connectionIdOf(message);
    StolenConnection c = id == 0 ? null : connections.get(id);
    if (c == null || c.owner != client) {
      logger.debug("{} for unknown stolen connection {}", message.getClass().getSimpleName(), id);
      DataFrame.discard(message);
      return;
    }
    // On the stolen channel's own loop, in arrival order: Data before Shutdown before Close. That
    // is the client connection's loop, so this is normally a direct call.
    EventLoops.run(c.channel.eventLoop(), () -> c.fromPeer(message));
  }

  /** The client's connection became (un)writable: pause or resume reading its stolen sockets. */
  public void clientWritabilityChanged(StealClient client) {
    for (StolenConnection c : connections.values()) {
      if (c.owner == client) {
        EventLoops.run(c.channel.eventLoop(), c::updateAutoRead);
      }
    }
  }

  public boolean owns(long connectionId) {
    return (connectionId & ID_BIT) != 0;
  }

  public java.util.Set<Integer> stolenPorts() {
    return java.util.Set.copyOf(ports.keySet());
  }

  private Channel listen(int port, StealClient client) throws InterruptedException {
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
                    StealClient owner = ownerOf(port);
                    if (owner == null) {
                      ch.close();
                      return;
                    }
                    StolenConnection c = new StolenConnection(ids.incrementAndGet() | ID_BIT, port, owner, ch);
                    ch.pipeline().addLast(c);
                  }
                });
    return b.bind(new InetSocketAddress(0)).sync().channel();
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
    // Wait (bounded) until the sockets are closed: the caller removes the iptables chains next,
    // and a FIN or RST sent after that would leave un-NATed and never reach its client.
    List<io.netty.channel.ChannelFuture> closing = new ArrayList<>();
    connections.values().forEach(c -> closing.add(c.channel.close()));
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
  private final class StolenConnection extends TcpRelay {
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
    public void channelActive(ChannelHandlerContext ctx) {
      connections.put(id(), this);
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
      connections.remove(id());
    }
  }
}
