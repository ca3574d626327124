package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Payload;
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
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A working in-memory pod agent speaking the CLI contract: {@code --target-pid N --listen
 * unix:PATH [--accept-timeout S] [--log-file F] [-v]}, token from {@code MIRRORD_AGENT_TOKEN} (or
 * {@code --token}), one {@code MIRRORD_AGENT_READY unix:PATH} line on stdout, exits on stdin EOF,
 * when its client disconnects, or when nobody connects in time. Answers Hello (token + version),
 * Ping, TargetInfoRequest, EnvRequest ({@link #TARGET_ENV}) and ResolverFilesRequest ({@link
 * #RESOLV_CONF}, {@link #HOSTS}).
 *
 * <p>Test knobs: {@code --fake-exit N} (print a line on stderr and exit N before READY), {@code
 * --fake-protocol MAJOR.MINOR} (speak another version), {@code --fake-silent} (never print READY), {@code --fake-delay-ms N} (sleep
 * N ms when the argument is read),
 * {@code --fake-unreadable-hosts} (the target's /etc/hosts is {@code Forbidden}).
 * Also usable in-process through {@link #start}.
 */
public final class FakePodAgent implements AutoCloseable {

  /** What the fake target's {@code /proc/N/environ} holds. */
  public static final Map<String, String> TARGET_ENV =
      Map.of(
          "FAKE_POD_VAR", "from-target",
          "DB_URL", "postgres://db:5432/app",
          "PATH", "/pod/bin",
          "HOME", "/root-of-pod",
          "JAVA_TOOL_OPTIONS", "-Dfrom.pod=1",
          "MIRRORD_POD_SECRET", "x",
          "SECRET_KEY", "s3cr3t");

  public static final String HOSTNAME = "fake-pod";

  /** The fake target's /etc/resolv.conf and /etc/hosts. */
  public static final String RESOLV_CONF =
      "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";

  public static final String HOSTS = "127.0.0.1\tlocalhost\n10.0.0.7\tfake-pod\n";

  /** {@code --fake-unreadable-hosts}, process-wide (the agent process has one agent). */
  static volatile boolean unreadableHosts;
  public static final List<String> ADDRESSES = List.of("10.0.0.7");

  private final EventLoopGroup group;
  private final Channel server;
  private final String token;
  private final int pid;
  private final ProtocolVersion version;
  private final Map<String, String> env;
  /** Every message received, in order, for assertions. */
  public final List<ClientMessage> received = new CopyOnWriteArrayList<>();

  private final CountDownLatch clientGone = new CountDownLatch(1);
  private final CountDownLatch clientCame = new CountDownLatch(1);
  private final List<Channel> clients = new CopyOnWriteArrayList<>();

  private FakePodAgent(Path socket, String token, int pid, ProtocolVersion version, Map<String, String> env)
      throws IOException {
    this.token = token;
    this.pid = pid;
    this.version = version;
    this.env = Map.copyOf(env);
    Files.deleteIfExists(socket);
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerDomainSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    clients.add(ch);
                    clientCame.countDown();
                    ch.closeFuture().addListener(f -> clientGone.countDown());
                    ProtocolPipeline.install(ch.pipeline(), Side.AGENT, new Handler());
                  }
                })
            .bind(UnixDomainSocketAddress.of(socket))
            .syncUninterruptibly()
            .channel();
  }

  /** An in-process fake agent listening on {@code socket}. */
  public static FakePodAgent start(
      Path socket, String token, int pid, ProtocolVersion version, Map<String, String> env)
      throws IOException {
    return new FakePodAgent(socket, token, pid, version, env);
  }

  /** Sends {@code msg} to every connected client (e.g. a {@code Tcp.NewConnection}). */
  public void send(dev.mirrord.jvm.protocol.AgentMessage msg) {
    clients.forEach(c -> c.writeAndFlush(msg));
  }

  /** Closes every client connection (as if the agent died). */
  public void dropClients() {
    clients.forEach(Channel::close);
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    dropClients();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Handler extends SimpleChannelInboundHandler<ClientMessage> {
    private boolean greeted;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
      received.add(msg);
      if (!greeted) {
        if (msg instanceof Session.Hello hello) {
          if (!hello.token().equals(token)) {
            reject(ctx, "wrong token");
          } else if (!version.compatibleWith(hello.version())) {
            reject(ctx, "incompatible protocol: client speaks " + hello.version() + ", agent speaks " + version);
          } else {
            greeted = true;
            ctx.writeAndFlush(new Session.HelloOk(version.negotiate(hello.version()), "fake-agent"));
          }
        } else {
          reject(ctx, "expected Hello");
        }
        return;
      }
      if (msg instanceof Session.Ping ping) {
        ctx.writeAndFlush(new Session.Pong(ping.nonce()));
      } else if (msg instanceof Target.TargetInfoRequest req) {
        ctx.writeAndFlush(new Target.TargetInfo(req.requestId(), pid, netnsInode(), HOSTNAME, ADDRESSES));
      } else if (msg instanceof Target.EnvRequest req) {
        ctx.writeAndFlush(new Target.EnvResponse(req.requestId(), RemoteResult.ok(env)));
      } else if (msg instanceof Target.ResolverFilesRequest req) {
        ctx.writeAndFlush(
            new Target.ResolverFiles(
                req.requestId(),
                RemoteResult.ok(Payload.wrap(RESOLV_CONF.getBytes(StandardCharsets.US_ASCII))),
                unreadableHosts
                    ? RemoteResult.err(new ResponseError.Forbidden("cannot read /proc/" + pid + "/root/etc/hosts: permission denied"))
                    : RemoteResult.ok(Payload.wrap(HOSTS.getBytes(StandardCharsets.US_ASCII)))));
      } else if (msg instanceof dev.mirrord.jvm.protocol.Tcp.PortSubscribe sub) {
        ctx.writeAndFlush(new dev.mirrord.jvm.protocol.Tcp.PortSubscribeResult(sub.port(), RemoteResult.ok(sub.port())));
      } else if (msg instanceof dev.mirrord.jvm.protocol.Tcp.Data
          || msg instanceof dev.mirrord.jvm.protocol.Tcp.Close
          || msg instanceof dev.mirrord.jvm.protocol.Tcp.Shutdown
          || msg instanceof dev.mirrord.jvm.protocol.Tcp.Flow) {
        // a relayed connection's traffic: recorded only
      } else {
        ctx.writeAndFlush(new Session.AgentLog(Session.AgentLog.Level.WARN, "fake agent ignores " + msg));
      }
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
      ctx.writeAndFlush(new Session.HelloRejected(version, reason)).addListener(ChannelFutureListener.CLOSE);
    }
  }

  static long netnsInode() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The agent process. */
  public static void main(String[] args) throws Exception {
    Integer targetPid = null;
    String listen = null;
    String token = System.getenv("MIRRORD_AGENT_TOKEN");
    int acceptTimeout = 30;
    Path logFile = null;
    ProtocolVersion version = ProtocolVersion.CURRENT;
    boolean silent = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--target-pid" -> targetPid = Integer.parseInt(args[++i]);
        case "--listen" -> listen = args[++i];
        case "--token" -> token = args[++i];
        case "--accept-timeout" -> acceptTimeout = Integer.parseInt(args[++i]);
        case "--log-file" -> logFile = Path.of(args[++i]);
        case "--session-id" -> i++;
        case "-v", "--no-warm-up" -> {}
        case "--fake-exit" -> {
          System.err.println("fake agent: failing on purpose");
          System.exit(Integer.parseInt(args[++i]));
        }
        case "--fake-protocol" -> {
          String[] v = args[++i].split("\\.");
          version = new ProtocolVersion(Integer.parseInt(v[0]), Integer.parseInt(v[1]));
        }
        case "--fake-silent" -> silent = true;
        case "--fake-delay-ms" -> Thread.sleep(Long.parseLong(args[++i]));
        case "--fake-unreadable-hosts" -> unreadableHosts = true;
        default -> {
          System.err.println("fake agent: unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    if (targetPid == null || listen == null || !listen.startsWith("unix:") || token == null) {
      System.err.println("fake agent: need --target-pid, --listen unix:PATH and MIRRORD_AGENT_TOKEN");
      System.exit(2);
    }
    if (logFile != null) {
      Files.writeString(logFile, "fake agent for pid " + targetPid + "\n");
      Path log = logFile;
      // stderr may be a dead pipe: record crashes in the log and never linger half-dead
      Thread.setDefaultUncaughtExceptionHandler(
          (t, e) -> {
            try {
              Files.writeString(log, t.getName() + " died: " + e + "\n", java.nio.file.StandardOpenOption.APPEND);
              for (StackTraceElement el : e.getStackTrace()) {
                Files.writeString(log, "  at " + el + "\n", java.nio.file.StandardOpenOption.APPEND);
              }
            } catch (IOException ignored) {
              // nothing left to report to
            }
            Runtime.getRuntime().halt(70);
          });
    }
    Path socket = Path.of(listen.substring("unix:".length()));
    FakePodAgent agent = start(socket, token, targetPid, version, TARGET_ENV);
    Thread stdinWatch =
        Thread.ofPlatform()
            .daemon(true)
            .start(
                () -> {
                  try (InputStream in = System.in) {
                    while (in.read() >= 0) {
                      // the CLI never writes; EOF means it is gone
                    }
                  } catch (IOException e) {
                    // same as EOF
                  }
                  shutdown(agent, socket, 0);
                });
    if (silent) {
      stdinWatch.join();
      return;
    }
    System.out.println("MIRRORD_AGENT_READY " + listen);
    System.out.flush();
    if (!agent.clientCame.await(acceptTimeout, TimeUnit.SECONDS)) {
      System.err.println("fake agent: nobody connected within " + acceptTimeout + " s");
      shutdown(agent, socket, 1);
    }
    agent.clientGone.await();
    shutdown(agent, socket, 0);
  }

  private static synchronized void shutdown(FakePodAgent agent, Path socket, int code) {
    agent.close();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // best effort
    }
    System.exit(code);
  }
}
