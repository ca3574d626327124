package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.TcpRelay;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.relay.EventLoops;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outgoing traffic on the CLI side (mirrord's intproxy outgoing proxy). A layer's {@code
 * ConnectRequest} goes to the agent (ids remapped by the {@link RequestRouter}); when the agent has
 * connected, the CLI opens a loopback endpoint for that one flow and answers the layer with it, and
 * the layer connects the app's socket there instead. Then:
 *
 * <ul>
 *   <li><b>TCP</b>: a listener on {@code <the session's relay address>:<ephemeral>} (see {@link
 *       RelayAddresses}) takes exactly one connection (the
 *       app's) and closes; the bytes are relayed both ways with half-close, reset and
 *       back-pressure ({@code Tcp.Flow}) both ways. An app that never connects within {@link
 *       #ACCEPT_TIMEOUT_SECONDS} closes the remote connection.
 *   <li><b>UDP</b>: a datagram socket on {@code 127.0.0.1:<ephemeral>}; each datagram from the app is
 *       one {@code Tcp.Data}, each one from the agent goes back to the app's socket (for DNS
 *       queries, to the socket that sent the query with that id).
 * </ul>
 *
 * State of one flow is touched on its channel's event loop (the proxy has one).
 */
final class OutgoingProxy {
  private static final Logger logger = LoggerFactory.getLogger(OutgoingProxy.class);

  static final long ACCEPT_TIMEOUT_SECONDS = 10;

  
  private final EventLoopGroup group;
  private final Transport transport;
  private final RequestRouter router;
  /** Where TCP flows' listeners bind: the relays' address, so that their ports never collide. */
  private final InetAddress listenAddress;
  private final AgentLink agent = new AgentLink();
  private final Map<Long, Flow> flows = new ConcurrentHashMap<>();

  OutgoingProxy(EventLoopGroup group, RequestRouter router, InetAddress listenAddress) {
    this.group = group;
    this.transport = Transport.of(group);
    this.router = router;
    this.listenAddress = listenAddress;
  }

  void agentConnected(Channel channel) {
    agent.connected(channel);
  }

  /** Handles a layer's outgoing-family message; false if it is not one. */
  boolean fromLayer(LayerConnectionHandler layer, ClientMessage msg) {
    if (msg instanceof Outgoing.ConnectRequest request) {
      Answer answer = new Answer(layer, request);
      router.fromClient(answer, request);
      // Queued behind the request's flush: binding costs ~65 µs of this loop, the agent's connect
      // takes longer, so the listener is ready before the answer comes back (measured per hop with
      // timestamps in all three processes: the bind had been on the critical path).
      group.execute(answer::bindListener);
      return true;
    }
    if (msg instanceof Tcp.Close c && Outgoing.isOutgoing(c.connectionId())) {
      // The app closed a UDP socket (TCP sockets end through their own relay).
      Flow f = flows.get(c.connectionId());
      if (f != null) {
        f.closeLocal();
      }
      return true;
    }
    return false;
  }

  /** Handles an agent stream message of an outgoing id; false if it is not one. */
  boolean fromAgent(AgentMessage msg) {
    return toFlow(msg);
  }

  /** {@code Tcp.Data} from the agent as a {@link DataFrame}; false if its id is not outgoing (then not taken). */
  boolean fromAgent(DataFrame data) {
    return toFlow(data);
  }

  /**
   * A stream message or {@link DataFrame} of an outgoing id to its flow; dropped (released) for an
   * unknown flow; false, and not taken, if the id is not outgoing.
   */
  private boolean toFlow(Object msg) {
    long id = DataFrame.connectionIdOf(msg);
    if (id == 0 || !Outgoing.isOutgoing(id)) {
      return false;
    }
    Flow f = flows.get(id);
    if (f == null) {
      logger.debug("{} for unknown outgoing connection {}", msg.getClass().getSimpleName(), Long.toHexString(id));
      DataFrame.discard(msg);
    } else {
      EventLoops.run(f.loop(), () -> f.fromPeer(msg));
    }
    return true;
  }

  /** A layer went away: its UDP flows end (TCP ones end with their sockets). */
  void layerClosed(LayerConnectionHandler layer) {
    for (Flow f : flows.values()) {
      if (f.layer() == layer && f instanceof DatagramFlow) {
        f.closeLocal();
      }
    }
  }

  /** The agent link is gone: every flow ends. */
  void agentLost() {
    agent.lost();
    for (Flow f : flows.values()) {
      f.loop().execute(f::abandon);
    }
    flows.clear();
  }

  void agentWritabilityChanged() {
    for (Flow f : flows.values()) {
      EventLoops.run(f.loop(), f::updateAutoRead);
    }
  }

  int openFlows() {
    return flows.size();
  }

  /**
   * Where the agent's answer to one layer's request goes: here first, then to the layer. For TCP
   * the loopback listener is bound while the agent connects (off the critical path); it is closed
   * again if the connect fails.
   */
  private final class Answer implements ReplyTarget {
    final LayerConnectionHandler layer;
    final Outgoing.ConnectRequest request;
    /** The loopback listener (TCP only), bound by {@link #bindListener}. */
    ChannelFuture listener;
    TcpFlow flow;
    /** The answer came (a forward that fails is answered before {@link #bindListener} runs). */
    boolean answered;

    Answer(LayerConnectionHandler layer, Outgoing.ConnectRequest request) {
      this.layer = layer;
      this.request = request;
    }

    /** Binds the TCP flow's loopback listener; called on the proxy's loop right after forwarding. */
    void bindListener() {
      if (request.protocol() != Outgoing.Protocol.TCP || listener != null || answered) {
        return;
      }
      listener = new ServerBootstrap()
          .group(group)
          .channel(transport.serverSocketChannel())
          .option(ChannelOption.SO_BACKLOG, 1)
          .childOption(ChannelOption.AUTO_READ, false)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
          .childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
              TcpFlow f = flow;
              if (f == null || f.channel() != null) {
                ch.close(); // one connection per flow, and only once the layer was told
                return;
              }
              f.accepted(ch);
            }
          })
          .bind(new InetSocketAddress(listenAddress, 0));
    }

    @Override
    public void deliver(AgentMessage msg) {
      Outgoing.ConnectResponse r = (Outgoing.ConnectResponse) msg;
      if (r.result().isOk()) {
        bindListener(); // in case the answer came before the listener was asked for
      }
      answered = true;
      if (!r.result().isOk()) {
        if (listener != null) {
          listener.channel().close();
        }
        layer.deliver(r);
        return;
      }
      Outgoing.Connected c = r.result().value();
      Flow f;
      if (listener != null) {
        flow = new TcpFlow(c.connectionId(), request, layer, listener);
        f = flow;
      } else {
        f = new DatagramFlow(c.connectionId(), request, layer);
      }
      flows.put(c.connectionId(), f);
      ChannelFuture bound = f.open();
      bound.addListener(b -> {
        if (!b.isSuccess()) {
          logger.warn("cannot open a loopback endpoint for {} {}:{}: {}", request.protocol(),
              request.address(), request.port(), b.cause().toString());
          flows.remove(c.connectionId());
          agent.send(new Tcp.Close(c.connectionId(), true));
          layer.deliver(new Outgoing.ConnectResponse(r.requestId(), RemoteResult.err(
              new ResponseError.RemoteIo(0, "mirrord CLI: " + b.cause().getMessage()))));
          return;
        }
        InetSocketAddress local = (InetSocketAddress) bound.channel().localAddress();
        logger.debug("outgoing {} {}:{} (agent {}:{}) ↔ loopback port {} for {}", request.protocol(),
            request.address(), request.port(), c.localAddress(), c.localPort(), local.getPort(),
            layer.describe());
        layer.deliver(new Outgoing.ConnectResponse(r.requestId(), RemoteResult.ok(
            new Outgoing.Connected(c.connectionId(), local.getAddress().getHostAddress(), local.getPort()))));
      });
    }

    @Override
    public String describe() {
      return layer.describe();
    }
  }

  /** One outgoing flow: the agent's side by id, the app's side on loopback. */
  private interface Flow {
    LayerConnectionHandler layer();

    /** Binds the loopback endpoint the app will use. */
    ChannelFuture open();

    EventLoop loop();

    /** A {@code Tcp.Data/Shutdown/Close/Flow} or a {@link DataFrame} (owned from here on). */
    void fromPeer(Object m);

    void updateAutoRead();

    /** Closes the app-facing side (the socket, or the listener if the app has not connected). */
    void closeLocal();

    /** The agent is gone: close without telling it. */
    void abandon();
  }

  /**
   * TCP: a listener on {@code 127.0.0.1:<ephemeral>} takes exactly one connection (the app's) and
   * closes; the socket is then relayed by the shared {@link TcpRelay}.
   */
  private final class TcpFlow extends TcpRelay implements Flow {
    final Outgoing.ConnectRequest request;
    final LayerConnectionHandler layer;
    final ChannelFuture bind;
    final Channel listener;
    int listenerPort;

    TcpFlow(long id, Outgoing.ConnectRequest request, LayerConnectionHandler layer, ChannelFuture bind) {
      super(id, agent);
      this.request = request;
      this.layer = layer;
      this.bind = bind;
      this.listener = bind.channel();
    }

    @Override
    public LayerConnectionHandler layer() {
      return layer;
    }

    @Override
    public EventLoop loop() {
      return listener.eventLoop();
    }

    /** The listener, bound while the agent connected: ready once that bind completes. */
    @Override
    public ChannelFuture open() {
      bind.addListener(b -> {
        if (b.isSuccess()) {
          listenerPort = ((InetSocketAddress) listener.localAddress()).getPort();
          listener.eventLoop().schedule(this::acceptTimedOut, ACCEPT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
      });
      return bind;
    }

    /** The app's connection: the listener's one. */
    void accepted(Channel ch) {
      listener.close();
      ch.pipeline().addLast(this);
      ch.eventLoop().execute(() -> attach(ch));
    }

    private void acceptTimedOut() {
      if (channel() == null && flows.remove(id()) != null) {
        logger.info("the app did not connect for outgoing {}:{} within {} s; closed",
            request.address(), request.port(), ACCEPT_TIMEOUT_SECONDS);
        listener.close();
        agent.send(new Tcp.Close(id(), true));
        layer.deliver(Tcp.IncomingPeer.forget(listenerPort));
      }
    }

    @Override
    public void closeLocal() {
      if (channel() != null) {
        channel().close();
      } else {
        listener.close();
        flows.remove(id());
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("local side of outgoing connection {}: {}", Long.toHexString(id()), cause.toString());
      super.exceptionCaught(ctx, cause);
    }

    @Override
    protected void ended() {
      flows.remove(id());
      listener.close();
      if (listenerPort > 0) {
        layer.deliver(Tcp.IncomingPeer.forget(listenerPort));
      }
    }
  }

  /**
   * UDP: a datagram socket on {@code 127.0.0.1:<ephemeral>}; each datagram from the app is one
   * {@code Tcp.Data}, each one from the agent goes back to the app's socket (for DNS queries, to the
   * socket that sent the query with that id).
   */
  private final class DatagramFlow extends ChannelInboundHandlerAdapter implements Flow {
    final long id;
    final Outgoing.ConnectRequest request;
    final LayerConnectionHandler layer;
    final boolean dns;
    Channel socket;
    boolean pausedByAgent;
    InetSocketAddress lastSender;
    final Map<Integer, InetSocketAddress> dnsSenders = new HashMap<>();

    DatagramFlow(long id, Outgoing.ConnectRequest request, LayerConnectionHandler layer) {
      this.id = id;
      this.request = request;
      this.layer = layer;
      this.dns = request.protocol() == Outgoing.Protocol.DNS_UDP;
    }

    @Override
    public LayerConnectionHandler layer() {
      return layer;
    }

    @Override
    public EventLoop loop() {
      return socket.eventLoop();
    }

    @Override
    public ChannelFuture open() {
      ChannelFuture f = new Bootstrap().group(group).channel(transport.datagramChannel()).handler(this)
          .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      socket = f.channel();
      return f;
    }

    @Override
    public void fromPeer(Object message) {
      Message m = DataFrame.asMessage(message);
      if (m instanceof Tcp.Data d) {
        byte[] datagram = d.bytes().unsafeArray();
        InetSocketAddress to = answerTarget(datagram);
        if (to != null) {
          socket.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), to));
        }
      } else if (m instanceof Tcp.Close) {
        flows.remove(id);
        socket.close();
      } else if (m instanceof Tcp.Flow f) {
        pausedByAgent = f.paused();
        updateAutoRead();
      }
    }

    private InetSocketAddress answerTarget(byte[] datagram) {
      if (dns && datagram.length >= 2) {
        InetSocketAddress s = dnsSenders.remove(((datagram[0] & 0xff) << 8) | (datagram[1] & 0xff));
        if (s != null) {
          return s;
        }
      }
      return lastSender;
    }

    @Override
    public void updateAutoRead() {
      if (socket.isActive()) {
        boolean read = !pausedByAgent && agent.writable();
        socket.config().setAutoRead(read);
        if (read) {
          socket.read();
        }
      }
    }

    @Override
    public void closeLocal() {
      socket.close();
    }

    @Override
    public void abandon() {
      flows.remove(id);
      socket.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket p = (DatagramPacket) msg;
      try {
        lastSender = p.sender();
        byte[] datagram = new byte[p.content().readableBytes()];
        p.content().readBytes(datagram);
        if (dns && datagram.length >= 2) {
          if (dnsSenders.size() > 4096) {
            dnsSenders.clear(); // unanswered queries of a long session
          }
          dnsSenders.put(((datagram[0] & 0xff) << 8) | (datagram[1] & 0xff), p.sender());
        }
        agent.send(new Tcp.Data(id, Payload.wrap(datagram)));
      } finally {
        p.release();
      }
      if (!agent.writable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (flows.remove(id) != null) {
        agent.send(new Tcp.Close(id, false));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // e.g. the app's socket is gone (ICMP port unreachable): keep the flow
      logger.debug("outgoing datagrams {}: {}", Long.toHexString(id), cause.toString());
    }
  }
}
