package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The layer's session with the CLI, started so that the app's {@code main} does not wait for the
 * layer's Netty client (~450 classes read and verified in the app's JVM, most of the layer's
 * attach):
 *
 * <ol>
 *   <li>{@link #open}, on the premain thread: a {@link BlockingProxyConnection} (the JDK's NIO and
 *       the protocol's codec only) connects, handshakes and asks {@code TargetInfo}. Once it
 *       returns, the CLI has accepted this layer and the target is known, so every failure that
 *       used to end the JVM before {@code main} still does;
 *   <li>then, on a thread of its own ({@code mirrord-layer-connect}), the main {@link
 *       ProxyConnection} comes up while the app starts; the start connection becomes the first of
 *       its connect pool;
 *   <li>a hook that needs the connection before it is up waits for it ({@link #await}), at most
 *       the handshake's bound and {@link #AWAIT_MARGIN_MILLIS}: no call the layer would route
 *       through the target ever goes out locally because it came early;
 *   <li>but a port subscription (the app's {@code bind}, which the app's first local request waits
 *       for) goes on the start connection while the main one is not up ({@link
 *       #subscribeOnStart}); the CLI hands it to the main connection of the same JVM once that one
 *       greets it (its {@code IncomingProxy}).
 * </ol>
 *
 * When the quick start cannot be used (the CLI refused the connection or this layer, or speaks a
 * protocol without the connect family), the main connection is opened on the premain thread as
 * before, so that the error line is the same.
 */
public final class ConnectionStart implements java.util.function.Supplier<ProxyConnection>, ProxyPortSubscriber.OnStart {
  /** How long a hook waits beyond the main connection's own handshake bound (a deadlock's bound). */
  static final long AWAIT_MARGIN_MILLIS = 2000;

  /** The layer's own Netty's default allocator (relocated with it in the layer jar). */
  static final String ALLOCATOR_PROPERTY = "io.netty.allocator.type";

  /** The request id of the start connection's {@code TargetInfoRequest} (its first request). */
  private static final long TARGET_INFO_ID = 1;

  private final String peer;
  private final Target.TargetInfo target;
  private final LayerLog log;
  private final CompletableFuture<ProxyConnection> main = new CompletableFuture<>();
  /** {@link System#nanoTime()} after which {@link #await} gives up (set by {@link #connect}). */
  private volatile long awaitBound;
  /** The main connection once it is up and wired (the fast path of {@link #await}). */
  private volatile ProxyConnection up;
  /** Set by {@link #closeAndAwait}; guarded by {@code this} together with {@link #up}. */
  private boolean closing;
  private volatile boolean awaitTimedOut;

  private final String host;
  private final int port;
  private final Session.Hello hello;
  private final Duration timeout;
  /**
   * The start connection, until the main connection's pool takes it; null without a quick start.
   * Guarded by {@link #startLock}: a subscription on it ({@link #subscribeOnStart}) and its hand-over
   * to the pool exclude each other.
   */
  private BlockingProxyConnection first;

  private final Object startLock = new Object();
  /** The main connection opened on the premain thread, without a quick start. */
  private ProxyConnection opened;

  private ConnectionStart(
      String host, int port, Session.Hello hello, Duration timeout, Target.TargetInfo target,
      LayerLog log) {
    this.host = host;
    this.port = port;
    this.hello = hello;
    this.timeout = timeout;
    this.peer = host + ":" + port;
    this.target = target;
    this.log = log;
  }

  /**
   * Starts the session (see the class comment) as far as {@code main} must wait for it; {@link
   * #connect} then brings the main connection up. Call it inside {@code BypassGuard}.
   *
   * @throws HandshakeException no session with the CLI, with a one-line reason
   */
  public static ConnectionStart open(
      String host, int port, Session.Hello hello, Duration timeout, LayerLog log)
      throws HandshakeException {
    String peer = host + ":" + port;
    long deadline = System.nanoTime() + timeout.toNanos();
    // Before any Netty class asks for its logger (else Netty sets java.util.logging up in the app's JVM), and before
    // ByteBufUtil picks its default allocator: the layer's traffic is small, and the pooling allocator's set-up costs
    // ~35 ms of the app's start. The name is the shaded Netty's (the shade plugin relocates the literal).
    NettyLogBridge.install(log);
    if (System.getProperty(ALLOCATOR_PROPERTY) == null) {
      System.setProperty(ALLOCATOR_PROPERTY, "unpooled");
    }
    // The main connection's channel id (Netty's DefaultChannelId) needs a machine id and a process id: found, they
    // cost an enumeration of the network interfaces for a MAC address (and a WARN line in a namespace without one)
    // and ProcessHandle's start (the JDK's process reaper), on the main connection's way up, which a bind waits for.
    // Random bytes and /proc/self's pid instead (in the layer jar the property names are the shaded Netty's).
    dev.mirrord.jvm.protocol.relay.NettyDefaults.channelIds(dev.mirrord.jvm.layer.internal.Pid.current());
    Session.Hello connectsHello =
        new Session.Hello(hello.version(), hello.token(), BlockingProxyConnection.connectsPeer(hello.peer()));
    BlockingProxyConnection first;
    Target.TargetInfo target;
    try {
      first = BlockingProxyConnection.open(new InetSocketAddress(host, port), connectsHello, deadline);
      try {
        target = first.targetInfo(new Target.TargetInfoRequest(TARGET_INFO_ID), deadline);
      } catch (IOException | RuntimeException e) {
        first.close();
        throw e;
      }
      if (target == null) {
        first.close();
        throw new HandshakeException("no answer to TargetInfoRequest from mirrord at " + peer + " in time");
      }
    } catch (java.net.SocketTimeoutException e) {
      throw new HandshakeException("no answer from mirrord at " + peer + " in time (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      if (e instanceof InterruptedIOException) {
        Thread.currentThread().interrupt();
      }
      log.debug("no quick start (" + ProxyConnection.describe(e) + "): opening the main connection first");
      return synchronous(host, port, hello, timeout, log);
    }
    ConnectionStart start = new ConnectionStart(host, port, hello, timeout, target, log);
    start.first = first;
    return start;
  }

  /** The way without a start connection: the main connection, then {@code TargetInfo} on it. */
  private static ConnectionStart synchronous(
      String host, int port, Session.Hello hello, Duration timeout, LayerLog log)
      throws HandshakeException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ProxyConnection connection = ProxyConnection.open(host, port, hello, timeout, log);
    Target.TargetInfo target;
    try {
      var answer = connection.await(
          connection.request(new Target.TargetInfoRequest(connection.nextRequestId())),
          deadline, "TargetInfoRequest");
      if (!(answer instanceof Target.TargetInfo)) {
        throw new HandshakeException("unexpected answer to TargetInfoRequest: " + answer);
      }
      target = (Target.TargetInfo) answer;
    } catch (HandshakeException e) {
      connection.close();
      throw e;
    }
    ConnectionStart start = new ConnectionStart(host, port, hello, timeout, target, log);
    start.opened = connection;
    return start;
  }

  /**
   * Brings the main connection up: on a thread of its own ({@code mirrord-layer-connect}) after a
   * quick start, at once otherwise. {@code onConnected} runs once with it before any hook can use
   * it; {@code onFailed} runs if it cannot be had (after a start that succeeded: it counts as lost).
   * Call it once.
   */
  public void connect(Consumer<ProxyConnection> onConnected, Consumer<HandshakeException> onFailed) {
    awaitBound = System.nanoTime() + timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(AWAIT_MARGIN_MILLIS);
    if (opened != null) {
      onConnected.accept(opened);
      up = opened;
      main.complete(opened);
      return;
    }
    Thread t = new Thread(new Runnable() { // not a lambda: premain (LayerStartup says why)
      @Override
      public void run() {
        connectMain(onConnected, onFailed);
      }
    }, "mirrord-layer-connect");
    t.setDaemon(true);
    t.start();
  }

  @SuppressWarnings("try") // the guard scope is entered for its effect
  private void connectMain(Consumer<ProxyConnection> onConnected, Consumer<HandshakeException> onFailed) {
    long t0 = System.nanoTime();
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      ProxyConnection c = ProxyConnection.open(host, port, hello, timeout, log);
      BlockingProxyConnection start;
      synchronized (startLock) { // after a subscription on it that is under way
        start = first;
        first = null;
      }
      if (start != null) {
        c.connectPool().adopt(start);
      }
      onConnected.accept(c);
      boolean ending;
      synchronized (this) {
        ending = closing;
        if (!ending) {
          up = c;
        }
      }
      if (ending) {
        c.close(); // the app's JVM is ending: nobody will use it
        main.completeExceptionally(new IOException("the app's JVM is ending"));
        return;
      }
      main.complete(c);
      log.info("main connection up " + (System.nanoTime() - t0) / 1_000_000 + " ms after the layer's start");
    } catch (HandshakeException e) {
      closeStart();
      log.error("no main connection to mirrord at " + peer + ": " + e.getMessage());
      main.completeExceptionally(e);
      onFailed.accept(e);
    } catch (Throwable e) {
      closeStart();
      log.error("no main connection to mirrord at " + peer, e);
      HandshakeException h = new HandshakeException("cannot talk to mirrord at " + peer + ": " + e, e);
      main.completeExceptionally(h);
      onFailed.accept(h);
    }
  }

  private void closeStart() {
    synchronized (startLock) {
      if (first != null) {
        first.close();
        first = null;
      }
    }
  }

  /**
   * Subscribes a target port on the start connection, if the main connection has not taken it yet
   * (then the app's {@code bind} need not wait for the main connection, which comes up beside the
   * app's start: 170–310 ms after a fast server's bind). Anything else the CLI sends on it meanwhile
   * is dropped (it sends nothing else there before the main connection is up).
   *
   * @return the answer; {@code null} if the start connection is gone (the main connection's way
   *     is then the one to take) or no answer came by {@code deadline}
   * @throws IOException the start connection failed; it is closed
   */
  @Override
  public Tcp.PortSubscribeResult subscribeOnStart(Tcp.PortSubscribe request, long deadline) throws IOException {
    synchronized (startLock) {
      if (first == null) { // the main connection's pool took it (before the main connection counts as up)
        return null;
      }
      try {
        return first.portSubscribe(request, deadline, DROP);
      } catch (IOException | RuntimeException e) {
        closeStart();
        throw e;
      }
    }
  }

  /**
   * Releases a port on the start connection, if the main connection has not taken it yet (the app's {@code close} of
   * its listener need not wait for the main connection either); whether it did.
   */
  @Override
  public boolean unsubscribeOnStart(Tcp.PortUnsubscribe request) {
    synchronized (startLock) {
      if (first == null) {
        return false;
      }
      try {
        first.send(request, System.nanoTime() + timeout.toNanos());
        return true;
      } catch (IOException | RuntimeException e) {
        closeStart();
        return false;
      }
    }
  }

  private static final Consumer<AgentMessage> DROP = new Consumer<AgentMessage>() {
    @Override
    public void accept(AgentMessage m) {
      // nothing is for the start connection but its answers
    }
  };

  /** The target, as the CLI described it at the start. */
  public Target.TargetInfo target() {
    return target;
  }

  /** Where the CLI listens, as {@code host:port}. */
  public String peer() {
    return peer;
  }

  /** The main connection if it is up, else {@code null} (never waits). */
  public ProxyConnection now() {
    return up;
  }

  /** {@link #await}: the hooks' way to the main connection. */
  @Override
  public ProxyConnection get() {
    return await();
  }

  /**
   * The main connection, waiting for it if it is not up yet (uninterruptibly, like a class's
   * initialization; the interrupt is kept).
   *
   * @throws NotConnectedException it could not be had, or not in time
   */
  public ProxyConnection await() {
    ProxyConnection c = up;
    if (c != null) {
      return c;
    }
    boolean interrupted = false;
    try {
      for (; ; ) {
        try {
          return main.get(Math.max(0, awaitBound - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw new NotConnectedException(
              "no connection to mirrord at " + peer + ": " + ProxyConnection.describe(e.getCause()));
        } catch (TimeoutException e) {
          if (!awaitTimedOut) {
            awaitTimedOut = true;
            log.warn("waited in vain for the connection to mirrord at " + peer + " on thread "
                + Thread.currentThread().getName() + "; its calls go on without mirrord until it is up");
          }
          throw new NotConnectedException("no connection to mirrord at " + peer + " yet");
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Completes with the main connection once it is up, or fails if it cannot be had. */
  public CompletableFuture<ProxyConnection> connection() {
    return main;
  }

  /**
   * For the JVM's exit: closes the main connection and waits up to {@code millis} for its thread;
   * a main connection still coming up is closed as soon as it is (the JVM is ending: no hook can
   * need it). Whether the layer's thread has ended.
   */
  public boolean closeAndAwait(long millis) {
    ProxyConnection c;
    synchronized (this) {
      closing = true;
      c = up;
    }
    return c == null || c.closeAndAwait(millis);
  }

  /** The main connection could not be had; the hook that asked lets the app's call through. */
  public static final class NotConnectedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    NotConnectedException(String message) {
      super(message);
    }
  }
}
