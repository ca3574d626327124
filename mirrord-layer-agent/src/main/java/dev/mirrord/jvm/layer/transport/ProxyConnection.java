package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The layer's one connection to the CLI's session proxy (Netty NIO, one daemon event-loop thread).
 *
 * <p>{@link #open} connects and runs the handshake ({@code Hello} → {@code HelloOk}) within a
 * deadline, or throws {@link HandshakeException} with a one-line reason. Afterwards:
 *
 * <ul>
 *   <li>{@link #request} sends a message that expects an answer and returns the future the answer
 *       completes; answers are matched by {@link RequestCorrelator} (request id, ping nonce, port);
 *   <li>{@link #send} sends a message that expects none;
 *   <li>{@link #onMessage} registers a listener for unsolicited messages (new connections, data,
 *       agent logs), called on the event loop: it must not block.
 * </ul>
 *
 * <p>An app's TCP connects do not go through the event loop: the app's thread writes its {@code
 * ConnectRequest} and reads the answer itself, on a {@link BlockingConnectionPool} connection
 * opened (and handshaked) next to this one; what the CLI sends on those that answers nothing goes
 * to the same listeners.
 *
 * <p>It knows nothing about which JDK method was hooked. A {@code Ping} goes out whenever nothing
 * was written for {@code ProtocolPipeline.WRITER_IDLE_SECONDS}. Losing the connection is logged and
 * fails the requests in flight; what the app then does is the caller's decision ({@link #lost()}).
 */
public final class ProxyConnection implements AutoCloseable {
  /** How long a {@code Ping} may stay unanswered before the log says so. */
  static final long PING_TIMEOUT_SECONDS = 30;

  /** Unpooled heap buffers: the layer's traffic is small, and it must not hold arenas in the app. */
  private static final UnpooledByteBufAllocator ALLOCATOR = new UnpooledByteBufAllocator(false);

  /** A listener registration; {@link #close()} removes the listener. */
  public interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  private final LayerLog log;
  private final String peer;
  private final EventLoopGroup group;
  private final RequestCorrelator correlator = new RequestCorrelator();
  private final List<Consumer<? super AgentMessage>> listeners = new CopyOnWriteArrayList<>();
  /** Unsolicited messages that came before the first listener ({@link #onMessage}); guards {@link #listening}. */
  private final java.util.ArrayDeque<AgentMessage> early = new java.util.ArrayDeque<>();
  /** At most this many are kept for the first listener. */
  static final int EARLY_MAX = 4096;
  /** Set once the first listener is registered (and has what came before it). */
  private volatile boolean listening;
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  private final AtomicLong requestIds = new AtomicLong();
  private final AtomicLong pingNonces = new AtomicLong();
  private volatile Channel channel;
  private volatile boolean closing;
  /** The connection ended without {@link #close()}: the CLI closed it or went away. */
  private volatile boolean lost;
  /** Set on the event loop when the CLI's answer arrives, so {@link #closed} (also there) always sees it. */
  private volatile Session.HelloOk helloOk;
  private final BlockingConnectionPool connectPool;

  private ProxyConnection(
      LayerLog log, String host, int port, Session.Hello hello, EventLoopGroup group) {
    this.log = log;
    this.peer = host + ":" + port;
    this.group = group;
    // Tagged in the CLI's log; the same token and version as this connection's.
    Session.Hello connectHello =
        new Session.Hello(hello.version(), hello.token(), BlockingProxyConnection.connectsPeer(hello.peer()));
    // anonymous classes, not lambdas, on the main connection's way up (LayerStartup says why)
    this.connectPool =
        new BlockingConnectionPool(
            new BlockingConnectionPool.Opener() {
              @Override
              public BlockingProxyConnection open(long deadline) throws IOException {
                return BlockingProxyConnection.open(new InetSocketAddress(host, port), connectHello, deadline);
              }
            },
            new Consumer<AgentMessage>() {
              @Override
              public void accept(AgentMessage m) {
                unsolicited(m);
              }
            },
            log);
  }

  /**
   * Connects to {@code host:port}, sends {@code hello} and waits for {@code HelloOk}, all within
   * {@code timeout}. Call it inside {@code BypassGuard}: the socket is created on this thread.
   */
  public static ProxyConnection open(
      String host, int port, Session.Hello hello, Duration timeout, LayerLog log)
      throws HandshakeException {
    return handshaked(host, port, hello, timeout, log);
  }

  private static ProxyConnection handshaked(
      String host, int port, Session.Hello hello, Duration timeout, LayerLog log)
      throws HandshakeException {
    long deadline = System.nanoTime() + timeout.toNanos();
    NettyLogBridge.install(log);
    EventLoopGroup group =
        new MultiThreadIoEventLoopGroup(1, new LayerThreadFactory(), NioIoHandler.newFactory());
    ProxyConnection c = new ProxyConnection(log, host, port, hello, group);
    try {
      c.connect(host, port, deadline);
      c.handshake(hello, deadline);
      try {
        c.channel
            .eventLoop()
            .scheduleAtFixedRate(
                new Runnable() {
                  @Override
                  public void run() {
                    c.connectPool.sweep();
                  }
                },
                BlockingConnectionPool.SWEEP_MILLIS,
                BlockingConnectionPool.SWEEP_MILLIS,
                TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // the CLI closed the connection right after its HelloOk and the loop has ended: the session was up, and is
        // lost (closeFuture is done, lost() says so), which is the caller's to act on, not a failed handshake
      }
      return c;
    } catch (HandshakeException e) {
      c.close();
      throw e;
    } catch (RuntimeException e) {
      c.close();
      throw new HandshakeException("cannot talk to mirrord at " + c.peer + ": " + e, e);
    }
  }

  private void connect(String host, int port, long deadline) throws HandshakeException {
    Bootstrap b =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, remainingMillis(deadline)))
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.ALLOCATOR, ALLOCATOR)
            .handler(new LayerChannelInitializer(new ProxySessionHandler(this, log)));
    ChannelFuture f = b.connect(host, port);
    if (!f.awaitUninterruptibly(remainingMillis(deadline) + 100, TimeUnit.MILLISECONDS)) {
      f.cancel(false);
      throw new HandshakeException("no connection to mirrord at " + peer + " in time");
    }
    if (!f.isSuccess()) {
      throw new HandshakeException(
          "cannot connect to mirrord at " + peer + ": " + describe(f.cause()), f.cause());
    }
    channel = f.channel();
  }

  private void handshake(Session.Hello hello, long deadline) throws HandshakeException {
    AgentMessage answer = await(request(hello), deadline, "Hello");
    if (answer instanceof Session.HelloRejected r) {
      throw new HandshakeException(
          "mirrord rejected this layer: "
              + r.reason()
              + " (CLI protocol "
              + r.agentVersion()
              + ", layer protocol "
              + hello.version()
              + ")");
    }
    Session.HelloOk ok = (Session.HelloOk) answer; // helloOk too, since received() stored it
    log.info(
        "connected to mirrord at "
            + peer
            + " (protocol "
            + ok.negotiated()
            + ", CLI "
            + ok.agentVersion()
            + ")");
  }

  /**
   * Waits until {@code deadline} (a {@link System#nanoTime()} value) for {@code answer}; the
   * failure names {@code what} was asked and whom.
   */
  public AgentMessage await(CompletableFuture<AgentMessage> answer, long deadline, String what)
      throws HandshakeException {
    try {
      return answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      answer.cancel(false);
      throw new HandshakeException("no answer to " + what + " from mirrord at " + peer + " in time");
    } catch (ExecutionException e) {
      throw new HandshakeException(
          "mirrord at " + peer + " failed to answer " + what + ": " + describe(e.getCause()),
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HandshakeException("interrupted while waiting for mirrord at " + peer);
    }
  }

  /** A fresh request id for {@code TargetInfoRequest}, {@code EnvRequest}, ... (1, 2, ...). */
  public long nextRequestId() {
    return requestIds.incrementAndGet();
  }

  /**
   * Sends {@code request} and returns the future its answer completes. Fails (never throws) if the
   * request expects no answer, one with the same key is in flight, or the connection is gone.
   * Dependent stages run on the event loop unless an executor is given: don't block in them.
   */
  public CompletableFuture<AgentMessage> request(ClientMessage request) {
    CompletableFuture<AgentMessage> answer = correlator.register(request);
    if (answer.isDone()) {
      return answer;
    }
    Channel ch = channel;
    if (ch == null || closeFuture.isDone()) {
      answer.completeExceptionally(new IOException("not connected to the mirrord CLI"));
      return answer;
    }
    ch.writeAndFlush(request)
        .addListener(
            new ChannelFutureListener() {
              @Override
              public void operationComplete(ChannelFuture w) {
                if (!w.isSuccess()) {
                  answer.completeExceptionally(w.cause());
                }
              }
            });
    return answer;
  }

  /** Sends a message that expects no answer; a failure is logged. */
  public void send(ClientMessage message) {
    Channel ch = channel;
    if (ch == null) {
      log.debug("not connected; dropped " + message);
      return;
    }
    ch.writeAndFlush(message)
        .addListener(
            new ChannelFutureListener() {
              @Override
              public void operationComplete(ChannelFuture w) {
                if (!w.isSuccess()) {
                  log.debug("could not send " + message + ": " + describe(w.cause()));
                }
              }
            });
  }

  /**
   * Calls {@code listener} (on the event loop) for every message that answers no request. The first listener also
   * gets, at once and in order, what came before it: the CLI may send a dial's {@code IncomingPeer} right after its
   * {@code HelloOk} (for a port the start connection subscribed), before the layer has wired this connection.
   */
  public Subscription onMessage(Consumer<? super AgentMessage> listener) {
    synchronized (early) {
      listeners.add(listener);
      if (!listening) {
        listening = true;
        for (AgentMessage m = early.poll(); m != null; m = early.poll()) {
          deliver(listener, m);
        }
      }
    }
    return new Subscription() {
      @Override
      public void close() {
        listeners.remove(listener);
      }
    };
  }

  /**
   * Returns once the event loop has read and handled what had reached this connection's socket
   * when it was called, or after {@code timeoutMillis}. A task on the loop runs after the loop
   * handled the socket events it had selected, so the first task queues a second one: that one
   * runs after at least one select that saw whatever was in the socket at the call. Never call it
   * on the event loop.
   */
  public void drainInbound(long timeoutMillis) {
    Channel ch = channel;
    if (ch == null || !ch.isActive() || ch.eventLoop().inEventLoop()) {
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      ch.eventLoop().execute(() -> ch.eventLoop().execute(() -> done.complete(null)));
      done.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
      // the loop is busy or gone: answer with what is known
    }
  }

  /** Completes when the connection is gone, whoever closed it. */
  public CompletableFuture<Void> closeFuture() {
    return closeFuture;
  }

  /**
   * Whether the connection ended on the CLI's side (it closed it, exited or was killed) after a
   * successful handshake, rather than by {@link #close()}; meaningful once {@link #closeFuture()}
   * is done.
   */
  public boolean lost() {
    return lost;
  }

  public boolean isOpen() {
    Channel ch = channel;
    return ch != null && ch.isActive() && !closeFuture.isDone();
  }

  /** The protocol version both sides speak (after {@link #open}). */
  public ProtocolVersion negotiated() {
    return helloOk.negotiated();
  }

  /** The CLI's version string from {@code HelloOk}. */
  public String cliVersion() {
    return helloOk.agentVersion();
  }

  /** The connections the app's threads make their TCP connects on. */
  BlockingConnectionPool connectPool() {
    return connectPool;
  }

  /** Where the CLI listens, as {@code host:port}. */
  public String peer() {
    return peer;
  }

  /** Closes the connection without waiting; the event-loop thread ends shortly after. */
  @Override
  public void close() {
    closing = true;
    connectPool.close();
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    } else {
      closed();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /**
   * Closes ({@link #close}) and waits up to {@code millis} for the event-loop thread to end; whether
   * it ended.
   */
  public boolean closeAndAwait(long millis) {
    close();
    return group.terminationFuture().awaitUninterruptibly(millis);
  }

  /** The channel, for tests that poke the pipeline. */
  Channel channelForTest() {
    return channel;
  }

  // ---- called by ProxySessionHandler on the event loop ----

  void received(AgentMessage msg) {
    if (msg instanceof Session.HelloOk ok) {
      // here, not on the thread that waits for the handshake: a CLI that closes right after its HelloOk is then a
      // lost session in closed(), which runs after this on the same thread
      helloOk = ok;
    }
    if (!correlator.complete(msg)) {
      unsolicited(msg);
    }
  }

  /**
   * A message that answers no request, from this connection (on the event loop) or one of the
   * {@link #connectPool}'s (on an app thread or the event loop).
   */
  void unsolicited(AgentMessage msg) {
    if (msg instanceof Session.AgentLog l) {
      log.log(levelOf(l.level()), "agent: " + l.message(), null);
    } else if (msg instanceof Session.Pong) {
      log.debug("late " + msg);
      return;
    }
    if (!listening) {
      synchronized (early) {
        if (!listening) {
          if (early.size() < EARLY_MAX) {
            early.add(msg);
          } else {
            log.warn("unsolicited " + msg + " dropped: nobody listens yet");
          }
          return;
        }
      }
    }
    if (listeners.isEmpty()) {
      log.debug("unsolicited " + msg + " (nobody listens)");
    }
    for (Consumer<? super AgentMessage> l : listeners) {
      deliver(l, msg);
    }
  }

  private void deliver(Consumer<? super AgentMessage> listener, AgentMessage msg) {
    try {
      listener.accept(msg);
    } catch (Throwable t) {
      log.error("listener failed on " + msg, t);
    }
  }

  void ping() {
    long nonce = pingNonces.incrementAndGet();
    long start = System.nanoTime();
    CompletableFuture<AgentMessage> pong = request(new Session.Ping(nonce));
    Channel ch = channel;
    if (ch != null && !pong.isDone()) {
      ch.eventLoop()
          .schedule(
              () -> pong.completeExceptionally(new TimeoutException()),
              PING_TIMEOUT_SECONDS,
              TimeUnit.SECONDS);
    }
    pong.whenComplete(
        (answer, error) -> {
          if (error == null) {
            log.debug("pong " + nonce + " after " + (System.nanoTime() - start) / 1_000_000 + " ms");
          } else if (error instanceof TimeoutException) {
            log.warn("no Pong from the mirrord CLI within " + PING_TIMEOUT_SECONDS + " s");
          }
        });
  }

  void closed() {
    if (closeFuture.isDone()) {
      return;
    }
    if (closing) {
      log.info("connection to mirrord at " + peer + " closed");
    } else if (helloOk != null) {
      lost = true;
      log.warn("connection to mirrord at " + peer + " lost");
    }
    IOException gone = new IOException("connection to the mirrord CLI closed");
    closeFuture.complete(null);
    connectPool.close();
    correlator.failAll(gone);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private static LayerLog.Level levelOf(Session.AgentLog.Level level) {
    switch (level) {
      case ERROR:
        return LayerLog.Level.ERROR;
      case WARN:
        return LayerLog.Level.WARN;
      default:
        return LayerLog.Level.INFO;
    }
  }

  private static long remainingMillis(long deadline) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  static String describe(Throwable t) {
    if (t == null) {
      return "unknown error";
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
