package dev.mirrord.jvm.layer.testing;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A scriptable stand-in for the CLI's session proxy, as the layer sees it: a Netty server on
 * 127.0.0.1 speaking the protocol on the agent side. By default it answers {@code Hello} with
 * {@code HelloOk} (if the token is {@link #TOKEN}, else {@code HelloRejected} and close), {@code
 * TargetInfoRequest} with a canned {@code TargetInfo}, {@code EnvRequest} with a canned env and
 * {@code Ping} with {@code Pong}, {@code LookupRequest} from {@link #DNS_RECORDS}; it records every
 * message it receives.
 */
public final class FakeAgent implements AutoCloseable {
  public static final String TOKEN = "fake-token-0123456789";
  public static final int TARGET_PID = 4242;
  public static final long TARGET_NETNS = 4026531992L;
  public static final String TARGET_HOSTNAME = "fake-pod-7d4b9";
  public static final List<String> TARGET_ADDRESSES = List.of("10.244.0.17");
  public static final String CLI_VERSION = "fake-cli 0.0.1";
  /** What the fake target's DNS knows (any other name is {@code NotFound}). */
  public static final Map<String, List<String>> DNS_RECORDS =
      Map.of(
          "svc", List.of("198.18.0.20"),
          "postgres.default.svc.cluster.local", List.of("198.18.0.20"),
          "dual", List.of("198.18.0.30", "fd00::30"));

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<ClientMessage> received = new CopyOnWriteArrayList<>();
  private final List<Received> receivedFrom = new CopyOnWriteArrayList<>();
  /** Connect routes whose answer is written this many milliseconds late. */
  private final Map<String, Long> connectDelays = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger connectRequests =
      new java.util.concurrent.atomic.AtomicInteger();
  private final Set<Integer> dropConnectRequests = new java.util.concurrent.CopyOnWriteArraySet<>();
  private final Set<Integer> closeAfterConnectAnswers = new java.util.concurrent.CopyOnWriteArraySet<>();
  private final List<Channel> clients = new CopyOnWriteArrayList<>();
  private final Set<Class<?>> ignored = new java.util.concurrent.CopyOnWriteArraySet<>();
  /** Outgoing routes: "ip:port" → the loopback endpoint the fake CLI answers with, or an errno. */
  private final Map<String, Object> outgoing = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong outgoingIds = new java.util.concurrent.atomic.AtomicLong();
  private volatile String rejectReason;
  private volatile boolean closeMainAfterHandshake;
  private volatile long mainHelloOkDelayMillis;
  private volatile long helloOkDelayMillis;
  private volatile long mainHelloOkSentAt;
  private Channel server;

  private FakeAgent() {}

  /** Starts listening on an ephemeral loopback port. */
  public static FakeAgent start() {
    FakeAgent agent = new FakeAgent();
    agent.server =
        new ServerBootstrap()
            .group(agent.group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    agent.clients.add(ch);
                    ProtocolPipeline.install(ch.pipeline(), Side.AGENT, agent.new Handler());
                  }
                })
            .bind("127.0.0.1", 0)
            .syncUninterruptibly()
            .channel();
    return agent;
  }

  /** Answers every {@code Hello} with {@code HelloRejected(reason)}, then closes. */
  public FakeAgent rejectAll(String reason) {
    this.rejectReason = reason;
    return this;
  }

  /** Never answers messages of {@code type} (to test timeouts). */
  public FakeAgent ignoring(Class<? extends ClientMessage> type) {
    ignored.add(type);
    return this;
  }

  /**
   * Closes the layer's main connection (the one whose peer name does not end with {@code "
   * (connects)"}) right after sending its {@code HelloOk}: the session is lost once it is up.
   */
  public FakeAgent closeMainAfterHandshake() {
    this.closeMainAfterHandshake = true;
    return this;
  }

  /** Answers the main connection's {@code Hello} (see {@link #closeMainAfterHandshake}) {@code millis} late. */
  /** Answers every connection's Hello (the start connection's too) {@code millis} late, as a CLI whose agent is still starting. */
  public FakeAgent delayEveryHelloOk(long millis) {
    this.helloOkDelayMillis = millis;
    return this;
  }

  public FakeAgent delayMainHelloOk(long millis) {
    this.mainHelloOkDelayMillis = millis;
    return this;
  }

  /** When ({@link System#currentTimeMillis()}) the last main connection's {@code HelloOk} was sent, or 0. */
  public long mainHelloOkSentAt() {
    return mainHelloOkSentAt;
  }

  /** A {@code ConnectRequest} to {@code ip:port} is answered with {@code endpoint} (a local server). */
  public FakeAgent route(String ipPort, java.net.InetSocketAddress endpoint) {
    outgoing.put(ipPort, endpoint);
    return this;
  }

  /** A {@code ConnectRequest} to {@code ip:port} fails in the "target" with {@code errno}. */
  public FakeAgent failConnect(String ipPort, int errno) {
    outgoing.put(ipPort, errno);
    return this;
  }

  /** The answer to a {@code ConnectRequest} to {@code ip:port} is written {@code millis} late. */
  public FakeAgent answerConnectAfter(String ipPort, long millis) {
    connectDelays.put(ipPort, millis);
    return this;
  }

  /**
   * The {@code nth} {@code ConnectRequest} (from 1, over all connections) is not answered: its
   * connection is closed instead (a CLI dropping the connection under a request).
   */
  public FakeAgent dropConnectRequest(int nth) {
    dropConnectRequests.add(nth);
    return this;
  }

  /** The connection that sent the {@code nth} {@code ConnectRequest} is closed after its answer. */
  public FakeAgent closeAfterConnectAnswer(int nth) {
    closeAfterConnectAnswers.add(nth);
    return this;
  }

  /** A message received and the {@code Hello} peer name of the connection it came on. */
  public record Received(String peer, ClientMessage message) {}

  /** Every message received, with the connection's {@code Hello} peer ("" before Hello). */
  public List<Received> receivedFrom() {
    return List.copyOf(receivedFrom);
  }

  /** The peers of the connections each message of {@code type} came on, in order. */
  public List<String> peersOf(Class<? extends ClientMessage> type) {
    return receivedFrom.stream()
        .filter(r -> type.isInstance(r.message()))
        .map(Received::peer)
        .collect(Collectors.toList());
  }

  /** Sends {@code msg} on the connections whose {@code Hello} peer ends with {@code peerSuffix}. */
  public void sendTo(String peerSuffix, AgentMessage msg) {
    for (Channel c : clients) {
      String peer = c.attr(PEER).get();
      if (peer != null && peer.endsWith(peerSuffix)) {
        c.writeAndFlush(msg);
      }
    }
  }

  private static final io.netty.util.AttributeKey<String> PEER =
      io.netty.util.AttributeKey.valueOf("fakeAgentPeer");

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public List<ClientMessage> received() {
    return List.copyOf(received);
  }

  public <T extends ClientMessage> List<T> received(Class<T> type) {
    return received.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  /** Sends {@code msg} to every connected client. */
  public void broadcast(AgentMessage msg) {
    for (Channel c : clients) {
      c.writeAndFlush(msg);
    }
  }

  /** Closes every client connection (the server keeps listening). */
  public void disconnectAll() {
    for (Channel c : clients) {
      c.close().syncUninterruptibly();
    }
  }

  public int openConnections() {
    return (int) clients.stream().filter(Channel::isActive).count();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    for (Channel c : clients) {
      c.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Handler extends SimpleChannelInboundHandler<ClientMessage> {
    private boolean helloSeen;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
      if (msg instanceof Session.Hello h) {
        ctx.channel().attr(PEER).set(h.peer());
      }
      String peer = ctx.channel().attr(PEER).get();
      receivedFrom.add(new Received(peer == null ? "" : peer, msg));
      received.add(msg);
      if (ignored.contains(msg.getClass())) {
        return;
      }
      if (!helloSeen && !(msg instanceof Session.Hello)) {
        ctx.close();
        return;
      }
      if (msg instanceof Session.Hello h) {
        helloSeen = true;
        String reason = rejectReason;
        if (reason == null && !TOKEN.equals(h.token())) {
          reason = "bad session token";
        }
        if (reason == null && !h.version().compatibleWith(ProtocolVersion.CURRENT)) {
          reason = "incompatible protocol " + h.version();
        }
        if (reason != null) {
          ctx.writeAndFlush(new Session.HelloRejected(ProtocolVersion.CURRENT, reason))
              .addListener(ChannelFutureListener.CLOSE);
        } else {
          boolean main = !h.peer().endsWith(" (connects)");
          Session.HelloOk ok = new Session.HelloOk(ProtocolVersion.CURRENT.negotiate(h.version()), CLI_VERSION);
          Runnable answer = () -> {
            var f = ctx.writeAndFlush(ok);
            if (main) {
              mainHelloOkSentAt = System.currentTimeMillis();
              if (closeMainAfterHandshake) {
                f.addListener(ChannelFutureListener.CLOSE);
              }
            }
          };
          if (main && mainHelloOkDelayMillis > 0) {
            ctx.executor().schedule(answer, mainHelloOkDelayMillis, TimeUnit.MILLISECONDS);
          } else if (helloOkDelayMillis > 0) {
            ctx.executor().schedule(answer, helloOkDelayMillis, TimeUnit.MILLISECONDS);
          } else {
            answer.run();
          }
        }
      } else if (msg instanceof Session.Ping p) {
        ctx.writeAndFlush(new Session.Pong(p.nonce()));
      } else if (msg instanceof Target.TargetInfoRequest r) {
        ctx.writeAndFlush(
            new Target.TargetInfo(
                r.requestId(), TARGET_PID, TARGET_NETNS, TARGET_HOSTNAME, TARGET_ADDRESSES));
      } else if (msg instanceof Target.EnvRequest r) {
        ctx.writeAndFlush(
            new Target.EnvResponse(r.requestId(), RemoteResult.ok(Map.of("FAKE_ENV", "1"))));
      } else if (msg instanceof Dns.LookupRequest q) {
        List<String> known = DNS_RECORDS.get(q.host());
        ctx.writeAndFlush(
            new Dns.LookupResponse(
                q.requestId(),
                known != null
                    ? RemoteResult.ok(known)
                    : RemoteResult.err(new ResponseError.NotFound(q.host()))));
      } else if (msg instanceof dev.mirrord.jvm.protocol.Outgoing.ConnectRequest c) {
        int nth = connectRequests.incrementAndGet();
        if (dropConnectRequests.contains(nth)) {
          ctx.close();
          return;
        }
        Object route = outgoing.get(c.address() + ":" + c.port());
        RemoteResult<dev.mirrord.jvm.protocol.Outgoing.Connected> result;
        if (route instanceof java.net.InetSocketAddress e) {
          result = RemoteResult.ok(new dev.mirrord.jvm.protocol.Outgoing.Connected(
              dev.mirrord.jvm.protocol.Outgoing.ID_BIT | outgoingIds.incrementAndGet(),
              e.getAddress().getHostAddress(), e.getPort()));
        } else {
          int errno = route instanceof Integer i ? i : dev.mirrord.jvm.protocol.Outgoing.ECONNREFUSED;
          result = RemoteResult.err(new ResponseError.RemoteIo(errno, "fake: " + c.address()));
        }
        var answer = new dev.mirrord.jvm.protocol.Outgoing.ConnectResponse(c.requestId(), result);
        Runnable write = () -> {
          var f = ctx.writeAndFlush(answer);
          if (closeAfterConnectAnswers.contains(nth)) {
            f.addListener(ChannelFutureListener.CLOSE);
          }
        };
        Long delay = connectDelays.get(c.address() + ":" + c.port());
        if (delay != null) {
          ctx.executor().schedule(write, delay, TimeUnit.MILLISECONDS);
        } else {
          write.run();
        }
      } else if (msg instanceof dev.mirrord.jvm.protocol.Tcp.PortSubscribe s) {
        ctx.writeAndFlush(
            new dev.mirrord.jvm.protocol.Tcp.PortSubscribeResult(s.port(), RemoteResult.ok(s.port())));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
