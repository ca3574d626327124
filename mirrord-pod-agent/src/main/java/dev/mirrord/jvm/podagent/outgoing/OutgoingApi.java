package dev.mirrord.jvm.podagent.outgoing;

import dev.mirrord.jvm.podagent.dns.DnsWorker;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.relay.EventLoops;
import dev.mirrord.jvm.protocol.relay.TcpRelay;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's outgoing family. A {@code ConnectRequest} becomes a Netty channel of this agent
 * (which lives in the target's network namespace), on the client connection's own event loop:
 * Netty's connect never blocks, so the loop is never held. The answer carries a fresh id with
 * {@link Outgoing#ID_BIT}; bytes then flow as {@code Tcp.Data/Shutdown/Close/Flow}.
 *
 * <p>Back-pressure per flow, both ways: a remote socket is read only while the client connection
 * is writable and the client has not paused that flow ({@code Tcp.Flow}); when a remote socket
 * cannot take more, the client is told to pause it. Closing either side closes the other.
 */
public final class OutgoingApi {
  private static final Logger logger = LoggerFactory.getLogger(OutgoingApi.class);

  /** The connect timeout when the app gave none (Linux gives up after about two minutes). */
  static final int DEFAULT_CONNECT_TIMEOUT_MILLIS = 60_000;

  /** Outgoing ids are unique within the agent, whatever client they belong to. */
  private static final AtomicLong NEXT_ID = new AtomicLong(1);

  private final String peer;
  private final Consumer<AgentMessage> replies;
  private final Supplier<Channel> client;
  private final Executor blocking;
  private final DnsWorker dns;
  private final Map<Long, Flow> flows = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param dns the resolver whose name server gets {@code DNS_UDP} flows, or {@code null}
   */
  public OutgoingApi(
      String peer,
      Consumer<AgentMessage> replies,
      Supplier<Channel> client,
      Executor blocking,
      DnsWorker dns) {
    this.peer = peer;
    this.replies = replies;
    this.client = client;
    this.blocking = blocking;
    this.dns = dns;
  }

  /** Whether {@code message} belongs to this family (a request, or stream data of an outgoing id). */
  public static boolean handles(ClientMessage message) {
    if (message instanceof Outgoing.ConnectRequest) {
      return true;
    }
    long id = Tcp.connectionIdOf(message);
    return id != 0 && Outgoing.isOutgoing(id);
  }

  public void handle(ClientMessage message) {
    if (message instanceof Outgoing.ConnectRequest request) {
      connect(request);
      return;
    }
    toFlow(message);
  }

  /** The bytes of an outgoing flow ({@code Tcp.Data} as a {@link DataFrame}); takes ownership. */
  public void handleData(DataFrame data) {
    toFlow(data);
  }

  /** A stream message or {@link DataFrame} to its flow, on the flow's loop; dropped (released) for an unknown flow. */
  private void toFlow(Object message) {
    Flow flow = flows.get(DataFrame.connectionIdOf(message));
    if (flow == null) {
      logger.debug("{}: {} for unknown outgoing connection", peer, message.getClass().getSimpleName());
      DataFrame.discard(message);
      return;
    }
    EventLoops.run(flow.channel().eventLoop(), () -> flow.fromPeer(message));
  }

  /** The client connection's writability changed: resume or pause reading every remote socket. */
  public void writabilityChanged() {
    for (Flow f : flows.values()) {
      EventLoops.run(f.channel().eventLoop(), f::updateAutoRead);
    }
  }

  /** The client is gone: every remote socket closes. */
  public void closed() {
    closed = true;
    for (Flow f : new ArrayList<>(flows.values())) {
      f.channel().eventLoop().execute(f::abandon);
    }
    flows.clear();
  }

  int openFlows() {
    return flows.size();
  }

  private void connect(Outgoing.ConnectRequest r) {
    byte[] literal = NetUtil.createByteArrayFromIpAddressString(r.address());
    if (literal == null) {
      answer(r, RemoteResult.err(new ResponseError.RemoteIo(0, "not an IP address: " + r.address())));
      return;
    }
    InetSocketAddress requested;
    try {
      requested = new InetSocketAddress(InetAddress.getByAddress(literal), r.port());
    } catch (IOException e) {
      answer(r, RemoteResult.err(new ResponseError.RemoteIo(0, e.getMessage())));
      return;
    }
    if (r.protocol() == Outgoing.Protocol.DNS_UDP) {
      if (dns == null) {
        answer(r, RemoteResult.err(new ResponseError.NotImplemented("remote DNS")));
        return;
      }
      blocking.execute(() -> {
        InetSocketAddress server;
        try {
          server = dns.nameServerFor(requested);
        } catch (IOException | RuntimeException e) {
          answer(r, RemoteResult.err(new ResponseError.RemoteIo(0, "target's resolv.conf: " + e.getMessage())));
          return;
        }
        logger.debug("{}: DNS to {} goes to the target's name server {}", peer, requested, server);
        open(r, server);
      });
      return;
    }
    open(r, requested);
  }

  private void open(Outgoing.ConnectRequest r, InetSocketAddress remote) {
    Channel clientChannel = client.get();
    if (closed || clientChannel == null || !clientChannel.isActive()) {
      return;
    }
    long id = Outgoing.ID_BIT | NEXT_ID.getAndIncrement();
    boolean tcp = r.protocol() == Outgoing.Protocol.TCP;
    Flow flow = tcp ? new TcpFlow(id, remote) : new DatagramFlow(id, remote);
    int timeout = r.timeoutMillis() > 0 ? r.timeoutMillis() : DEFAULT_CONNECT_TIMEOUT_MILLIS;
    Bootstrap b = new Bootstrap().group(clientChannel.eventLoop()).handler((ChannelHandler) flow)
        .option(ChannelOption.AUTO_READ, false);
    b.option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK);
    Transport transport = Transport.of(clientChannel.eventLoop());
    if (tcp) {
      b.channel(transport.socketChannel())
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeout)
          .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .option(ChannelOption.TCP_NODELAY, true);
    } else {
      b.channel(transport.datagramChannel());
    }
    long start = System.nanoTime();
    ChannelFuture f = b.connect(remote);
    f.addListener(done -> {
      if (!done.isSuccess()) {
        ResponseError error = errorFor(done.cause(), remote);
        logger.debug("{}: {} connect to {} failed: {}", peer, r.protocol(), remote, error.describe());
        answer(r, RemoteResult.err(error));
        return;
      }
      if (closed) {
        f.channel().close();
        return;
      }
      flows.put(id, flow);
      InetSocketAddress local = (InetSocketAddress) f.channel().localAddress();
      answer(r, RemoteResult.ok(new Outgoing.Connected(
          id, local.getAddress().getHostAddress(), local.getPort())));
      flow.attach(f.channel());
      // After the answer (the app waits for it), and at DEBUG: one line per connection is not
      // something a cluster admin acts on.
      logger.debug("{}: {} {} → {} as connection {} ({} µs)", peer, r.protocol(), local, remote,
          Long.toHexString(id), (System.nanoTime() - start) / 1000);
    });
  }

  private void answer(Outgoing.ConnectRequest r, RemoteResult<Outgoing.Connected> result) {
    replies.accept(new Outgoing.ConnectResponse(r.requestId(), result));
  }

  private boolean clientWritable() {
    Channel ch = client.get();
    return ch == null || ch.isWritable();
  }

  /** The error the app should see, as an errno the layer turns into the JDK's exception. */
  static ResponseError errorFor(Throwable cause, InetSocketAddress remote) {
    String where = remote.getAddress().getHostAddress() + ":" + remote.getPort();
    String msg = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
    int errno;
    String text;
    if (cause instanceof ConnectTimeoutException || msg.contains("timed out")) {
      errno = Outgoing.ETIMEDOUT;
      text = "Connection timed out";
    } else if (cause instanceof NoRouteToHostException || msg.contains("no route")) {
      errno = Outgoing.EHOSTUNREACH;
      text = "No route to host";
    } else if (msg.contains("network is unreachable")) {
      errno = Outgoing.ENETUNREACH;
      text = "Network is unreachable";
    } else if (cause instanceof ConnectException || msg.contains("refused")) {
      errno = Outgoing.ECONNREFUSED;
      text = "Connection refused";
    } else if (cause instanceof SocketException) {
      errno = 0;
      text = cause.getMessage();
    } else {
      errno = 0;
      text = cause.toString();
    }
    return new ResponseError.RemoteIo(errno, text + ": " + where);
  }

  /** A flow of this client: TCP ({@link TcpFlow}) or UDP ({@link DatagramFlow}). */
  private interface Flow {
    Channel channel();

    void attach(Channel ch);

    /** A {@code Tcp.Data/Shutdown/Close/Flow} or a {@link DataFrame} (owned from here on). */
    void fromPeer(Object m);

    void updateAutoRead();

    void abandon();
  }

  private final TcpRelay.Peer clientPeer = new TcpRelay.Peer() {
    @Override
    public void send(Message message) {
      replies.accept((AgentMessage) message);
    }

    @Override
    public void sendData(long id, ByteBuf bytes) {
      MessageCodec.writeData(client.get(), id, bytes);
    }

    @Override
    public boolean writable() {
      return clientWritable();
    }
  };

  /** A TCP connection in the target, relayed by the shared {@link TcpRelay}. */
  private final class TcpFlow extends TcpRelay implements Flow {
    final InetSocketAddress remote;

    TcpFlow(long id, InetSocketAddress remote) {
      super(id, clientPeer);
      this.remote = remote;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("{}: outgoing connection {} to {}: {}", peer, Long.toHexString(id()), remote,
          cause.toString());
      super.exceptionCaught(ctx, cause);
    }

    @Override
    protected void ended() {
      flows.remove(id());
      logger.debug("{}: outgoing connection {} to {} closed", peer, Long.toHexString(id()), remote);
    }
  }

  /** A connected datagram socket in the target: each {@code Tcp.Data} is one datagram. */
  private final class DatagramFlow extends ChannelInboundHandlerAdapter implements Flow {
    final long id;
    final InetSocketAddress remote;
    Channel ch;
    boolean pausedByClient;

    DatagramFlow(long id, InetSocketAddress remote) {
      this.id = id;
      this.remote = remote;
    }

    @Override
    public Channel channel() {
      return ch;
    }

    @Override
    public void attach(Channel channel) {
      ch = channel;
      updateAutoRead();
    }

    @Override
    public void fromPeer(Object m) {
      if (m instanceof DataFrame f) {
        ch.writeAndFlush(new DatagramPacket(f.content(), remote));
      } else if (m instanceof Tcp.Data d) {
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(d.bytes().unsafeArray()), remote));
      } else if (m instanceof Tcp.Close) {
        flows.remove(id);
        ch.close();
      } else if (m instanceof Tcp.Flow f) {
        pausedByClient = f.paused();
        updateAutoRead();
      }
    }

    @Override
    public void updateAutoRead() {
      if (ch.isActive()) {
        boolean read = !pausedByClient && clientWritable();
        ch.config().setAutoRead(read);
        if (read) {
          ch.read();
        }
      }
    }

    @Override
    public void abandon() {
      ch.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        ByteBuf buf = ((DatagramPacket) msg).content();
        byte[] datagram = new byte[buf.readableBytes()];
        buf.readBytes(datagram);
        replies.accept(new Tcp.Data(id, Payload.wrap(datagram)));
      } finally {
        ReferenceCountUtil.release(msg);
      }
      if (!clientWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (flows.remove(id) != null) {
        replies.accept(new Tcp.Close(id, false));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // e.g. ICMP port unreachable: the app's connected socket stays usable, as locally
      logger.debug("{}: outgoing datagrams {} to {}: {}", peer, Long.toHexString(id), remote,
          cause.toString());
    }
  }
}
