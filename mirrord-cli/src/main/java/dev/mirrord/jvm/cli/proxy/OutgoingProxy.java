package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
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
 *   <li><b>TCP</b>: a listener on {@code 127.0.0.1:<ephemeral>} takes exactly one connection (the
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

  /** Bytes from the agent buffered before the app's socket is connected; past this, pause the flow. */
  static final int EARLY_BUFFER_PAUSE = 4 * 1024 * 1024;

  private final EventLoopGroup group;
  private final RequestRouter router;
  private volatile Channel agent;
  private final Map<Long, Flow> flows = new ConcurrentHashMap<>();

  OutgoingProxy(EventLoopGroup group, RequestRouter router) {
    this.group = group;
    this.router = router;
  }

  void agentConnected(Channel channel) {
    this.agent = channel;
  }

  /** Handles a layer's outgoing-family message; false if it is not one. */
  boolean fromLayer(LayerConnectionHandler layer, ClientMessage msg) {
    if (msg instanceof Outgoing.ConnectRequest request) {
      router.fromClient(new Answer(layer, request), request);
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
    long id = connectionId(msg);
    if (id == 0 || !Outgoing.isOutgoing(id)) {
      return false;
    }
    Flow f = flows.get(id);
    if (f == null) {
      logger.debug("{} for unknown outgoing connection {}", msg.getClass().getSimpleName(), Long.toHexString(id));
    } else {
      f.endpoint.eventLoop().execute(() -> f.fromAgent(msg));
    }
    return true;
  }

  /** A layer went away: its flows end (UDP sockets have no connection to notice it). */
  void layerClosed(LayerConnectionHandler layer) {
    for (Flow f : flows.values()) {
      if (f.layer == layer && !f.tcp) {
        f.closeLocal();
      }
    }
  }

  /** The agent link is gone: every flow ends. */
  void agentLost() {
    agent = null;
    for (Flow f : flows.values()) {
      f.closeSent = true;
      f.closeLocal();
    }
    flows.clear();
  }

  void agentWritabilityChanged() {
    for (Flow f : flows.values()) {
      f.endpoint.eventLoop().execute(f::updateAutoRead);
    }
  }

  int openFlows() {
    return flows.size();
  }

  private void send(Object msg) {
    Channel ch = agent;
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(msg);
    }
  }

  private boolean agentWritable() {
    Channel ch = agent;
    return ch == null || ch.isWritable();
  }

  static long connectionId(Object msg) {
    if (msg instanceof Tcp.Data d) {
      return d.connectionId();
    } else if (msg instanceof Tcp.Shutdown s) {
      return s.connectionId();
    } else if (msg instanceof Tcp.Close c) {
      return c.connectionId();
    } else if (msg instanceof Tcp.Flow f) {
      return f.connectionId();
    }
    return 0;
  }

  /** Where the agent's answer to one layer's request goes: here first, then to the layer. */
  private final class Answer implements ReplyTarget {
    final LayerConnectionHandler layer;
    final Outgoing.ConnectRequest request;

    Answer(LayerConnectionHandler layer, Outgoing.ConnectRequest request) {
      this.layer = layer;
      this.request = request;
    }

    @Override
    public void deliver(AgentMessage msg) {
      Outgoing.ConnectResponse r = (Outgoing.ConnectResponse) msg;
      if (!r.result().isOk()) {
        layer.deliver(r);
        return;
      }
      Outgoing.Connected c = r.result().value();
      Flow flow = new Flow(c.connectionId(), request, layer);
      flows.put(c.connectionId(), flow);
      flow.open().addListener(bound -> {
        if (!bound.isSuccess()) {
          logger.warn("cannot open a loopback endpoint for {} {}:{}: {}", request.protocol(),
              request.address(), request.port(), bound.cause().toString());
          flows.remove(c.connectionId());
          send(new Tcp.Close(c.connectionId(), true));
          layer.deliver(new Outgoing.ConnectResponse(r.requestId(), RemoteResult.err(
              new ResponseError.RemoteIo(0, "mirrord CLI: " + bound.cause().getMessage()))));
          return;
        }
        InetSocketAddress local = (InetSocketAddress) flow.endpoint.localAddress();
        flow.endpointPort = local.getPort();
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

  /** One outgoing flow: the agent's side by id, the app's side as a loopback socket. */
  private final class Flow extends ChannelInboundHandlerAdapter {
    final long id;
    final Outgoing.ConnectRequest request;
    final LayerConnectionHandler layer;
    final boolean tcp;
    /** TCP: the one-shot listener; UDP: the datagram socket (also {@link #local}). */
    Channel endpoint;
    int endpointPort;
    /** The app-facing channel: the accepted socket (TCP) or the datagram socket (UDP). */
    Channel local;
    boolean connected;
    boolean pausedByAgent;
    boolean pausedEarly;
    boolean closeSent;
    final Queue<Object> early = new ArrayDeque<>();
    long earlyBytes;
    /** UDP: where answers go — the last sender, and for DNS the sender of each query id. */
    InetSocketAddress lastSender;
    final Map<Integer, InetSocketAddress> dnsSenders = new HashMap<>();

    Flow(long id, Outgoing.ConnectRequest request, LayerConnectionHandler layer) {
      this.id = id;
      this.request = request;
      this.layer = layer;
      this.tcp = request.protocol() == Outgoing.Protocol.TCP;
    }

    /** Closes the app-facing side: the socket, or the listener if the app has not connected yet. */
    void closeLocal() {
      Channel ch = local;
      (ch != null ? ch : endpoint).close();
      if (ch == null) {
        flows.remove(id);
      }
    }

    ChannelFuture open() {
      InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
      ChannelFuture f;
      if (tcp) {
        f = new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
            .childHandler(new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                if (local != null) {
                  ch.close(); // one connection per flow
                  return;
                }
                local = ch;
                endpoint.close();
                ch.pipeline().addLast(Flow.this);
                ch.eventLoop().execute(Flow.this::connected);
              }
            })
            .bind(any);
        endpoint = f.channel();
        f.addListener(b -> {
          if (b.isSuccess()) {
            endpoint.eventLoop().schedule(() -> {
              if (local == null) {
                logger.info("the app did not connect for outgoing {}:{} within {} s; closed",
                    request.address(), request.port(), ACCEPT_TIMEOUT_SECONDS);
                endpoint.close();
                flows.remove(id);
                send(new Tcp.Close(id, true));
                layer.deliver(Tcp.IncomingPeer.forget(endpointPort));
              }
            }, ACCEPT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
          }
        });
      } else {
        f = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(this).bind(any);
        endpoint = f.channel();
        local = endpoint;
        f.addListener(b -> {
          if (b.isSuccess()) {
            connected();
          }
        });
      }
      return f;
    }

    void connected() {
      connected = true;
      Object m;
      while ((m = early.poll()) != null) {
        apply(m);
      }
      if (pausedEarly) {
        pausedEarly = false;
        send(new Tcp.Flow(id, false));
      }
      updateAutoRead();
    }

    void fromAgent(Object msg) {
      if (!connected) {
        early.add(msg);
        if (msg instanceof Tcp.Data d) {
          earlyBytes += d.bytes().size();
          if (earlyBytes > EARLY_BUFFER_PAUSE && !pausedEarly && tcp) {
            pausedEarly = true;
            send(new Tcp.Flow(id, true));
          }
        }
        return;
      }
      apply(msg);
    }

    private void apply(Object msg) {
      if (msg instanceof Tcp.Data d) {
        ByteBuf bytes = Unpooled.wrappedBuffer(d.bytes().unsafeArray());
        if (tcp) {
          local.writeAndFlush(bytes);
        } else {
          InetSocketAddress to = answerTarget(d.bytes().unsafeArray());
          if (to != null) {
            local.writeAndFlush(new DatagramPacket(bytes, to));
          } else {
            bytes.release();
          }
        }
      } else if (msg instanceof Tcp.Shutdown && tcp) {
        local.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
          if (local.isActive()) {
            ((SocketChannel) local).shutdownOutput();
          }
        });
      } else if (msg instanceof Tcp.Close c) {
        closeSent = true;
        flows.remove(id);
        if (c.reset() && tcp) {
          local.config().setOption(ChannelOption.SO_LINGER, 0);
          local.close();
        } else if (tcp) {
          local.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> local.close());
        } else {
          local.close();
        }
      } else if (msg instanceof Tcp.Flow f) {
        pausedByAgent = f.paused();
        updateAutoRead();
      }
    }

    private InetSocketAddress answerTarget(byte[] datagram) {
      if (request.protocol() == Outgoing.Protocol.DNS_UDP && datagram.length >= 2) {
        InetSocketAddress s = dnsSenders.remove(((datagram[0] & 0xff) << 8) | (datagram[1] & 0xff));
        if (s != null) {
          return s;
        }
      }
      return lastSender;
    }

    void updateAutoRead() {
      if (connected && local != null && local.isActive()) {
        boolean read = !pausedByAgent && agentWritable();
        local.config().setAutoRead(read);
        if (read) {
          local.read();
        }
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof DatagramPacket p) {
        try {
          lastSender = p.sender();
          byte[] datagram = new byte[p.content().readableBytes()];
          p.content().readBytes(datagram);
          if (request.protocol() == Outgoing.Protocol.DNS_UDP && datagram.length >= 2) {
            if (dnsSenders.size() > 4096) {
              dnsSenders.clear(); // unanswered queries of a long session
            }
            dnsSenders.put(((datagram[0] & 0xff) << 8) | (datagram[1] & 0xff), p.sender());
          }
          send(new Tcp.Data(id, Payload.wrap(datagram)));
        } finally {
          p.release();
        }
        return;
      }
      ByteBuf buf = (ByteBuf) msg;
      try {
        while (buf.isReadable()) {
          byte[] chunk = new byte[Math.min(buf.readableBytes(), Tcp.MAX_CHUNK)];
          buf.readBytes(chunk);
          send(new Tcp.Data(id, Payload.wrap(chunk)));
        }
      } finally {
        buf.release();
      }
      if (!agentWritable()) {
        local.config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (tcp) {
        send(new Tcp.Flow(id, !local.isWritable()));
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent && tcp) {
        send(new Tcp.Shutdown(id));
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      flows.remove(id);
      if (tcp && endpointPort > 0) {
        layer.deliver(Tcp.IncomingPeer.forget(endpointPort));
      }
      if (!closeSent) {
        closeSent = true;
        send(new Tcp.Close(id, false));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("local side of outgoing connection {}: {}", Long.toHexString(id), cause.toString());
      if (!tcp) {
        return; // e.g. the app's socket is gone (ICMP port unreachable): keep the flow
      }
      flows.remove(id);
      if (!closeSent) {
        closeSent = true;
        send(new Tcp.Close(id, true));
      }
      ctx.close();
    }
  }
}
