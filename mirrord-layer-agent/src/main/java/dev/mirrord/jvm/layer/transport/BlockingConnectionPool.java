package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The {@link BlockingProxyConnection}s an app's TCP connects use: at most {@link #MAX_CONNECTIONS},
 * opened lazily by the first connect that finds none idle (connect + {@code Hello}, as for the main
 * connection), handed to one thread at a time, most recently used first.
 *
 * <p>{@link #connect} never fails because of the pool: a pooled connection found closed (or that
 * fails before its answer) is dropped and the request goes to a fresh one; when none can be had
 * (the pool is full, or a fresh one cannot be opened) it answers {@code null} and the caller takes
 * the main connection's path.
 *
 * <p>{@link #sweep}, every {@link #SWEEP_MILLIS} on the layer's event loop, reads what idle
 * connections received (the {@code IncomingPeer.forget} of a flow that ended), drops the ones the
 * CLI closed, pings the ones nothing was written on for {@code ProtocolPipeline.WRITER_IDLE_SECONDS}
 * (as the main connection does, so a reader-idle timeout on the CLI side never hits them) and closes
 * the ones unused for {@link #UNUSED_CLOSE_MILLIS} once no flow opened on them is still open (the
 * CLI tells a flow's end to the connection that opened it).
 */
final class BlockingConnectionPool implements AutoCloseable {
  static final int MAX_CONNECTIONS = 8;
  static final long SWEEP_MILLIS = 1000;
  static final long UNUSED_CLOSE_MILLIS = TimeUnit.MINUTES.toMillis(5);
  /** How long opening a fresh connection may take out of the app's connect. */
  static final long OPEN_TIMEOUT_MILLIS = 2000;
  /** After a failed open, connects take the main connection's path for this long. */
  static final long OPEN_BACKOFF_MILLIS = 10_000;

  /** Opens and handshakes a fresh connection by a deadline ({@link System#nanoTime()}). */
  interface Opener {
    BlockingProxyConnection open(long deadline) throws IOException;
  }

  private final Opener opener;
  private final Consumer<? super AgentMessage> unsolicited;
  private final LayerLog log;
  /**
   * app threads (release) --idle connection--> app threads (take) and the sweep; most recently used
   * first. Whoever removes a connection owns it until it puts it back.
   */
  private final Deque<BlockingProxyConnection> idle = new ConcurrentLinkedDeque<>();
  /** Connections open, idle or in use. */
  private final AtomicInteger open = new AtomicInteger();
  private volatile long openFailedAt;
  private volatile boolean openFailed;
  private volatile boolean closed;

  /**
   * @param unsolicited gets what the CLI sends on these connections that answers no request (on
   *     the app's thread or the event loop)
   */
  BlockingConnectionPool(Opener opener, Consumer<? super AgentMessage> unsolicited, LayerLog log) {
    this.opener = opener;
    this.unsolicited = unsolicited;
    this.log = log;
  }

  /**
   * Sends {@code request} on a connection of this pool and waits until {@code deadline} for the
   * answer.
   *
   * @return the answer, or {@code null} if no connection could be had (the request was not sent)
   * @throws java.net.SocketTimeoutException no answer by {@code deadline}
   * @throws InterruptedIOException the thread was interrupted
   */
  Outgoing.ConnectResponse connect(Outgoing.ConnectRequest request, long deadline)
      throws IOException {
    BlockingProxyConnection c = idle.pollFirst();
    if (c != null) {
      try {
        return exchange(c, request, deadline);
      } catch (BlockingProxyConnection.StaleConnectionException e) {
        log.debug("pooled connect connection gone (" + e.getMessage() + "); using a fresh one");
      }
    }
    c = openFresh(deadline);
    if (c == null) {
      return null;
    }
    try {
      return exchange(c, request, deadline);
    } catch (BlockingProxyConnection.StaleConnectionException e) {
      log.debug("fresh connect connection failed (" + e.getMessage() + ")");
      return null;
    }
  }

  private Outgoing.ConnectResponse exchange(
      BlockingProxyConnection c, Outgoing.ConnectRequest request, long deadline) throws IOException {
    boolean keep = false;
    try {
      Outgoing.ConnectResponse r = c.connect(request, deadline, unsolicited);
      keep = true;
      return r;
    } catch (InterruptedIOException e) { // a timeout too: a late answer is dropped by its id
      keep = c.isOpen();
      throw e;
    } finally {
      if (keep) {
        release(c);
      } else {
        discard(c);
      }
    }
  }

  private BlockingProxyConnection openFresh(long deadline) {
    if (closed
        || (openFailed
            && System.nanoTime() - openFailedAt < TimeUnit.MILLISECONDS.toNanos(OPEN_BACKOFF_MILLIS))) {
      return null;
    }
    if (open.incrementAndGet() > MAX_CONNECTIONS) {
      open.decrementAndGet();
      return null;
    }
    long openBy = Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OPEN_TIMEOUT_MILLIS));
    try {
      BlockingProxyConnection c = opener.open(openBy);
      openFailed = false;
      log.debug("opened connect connection " + open.get() + " of at most " + MAX_CONNECTIONS);
      return c;
    } catch (IOException | RuntimeException e) {
      open.decrementAndGet();
      openFailedAt = System.nanoTime();
      openFailed = true;
      log.info("cannot open a connection for connects (" + ProxyConnection.describe(e)
          + "); connects use the main connection for " + OPEN_BACKOFF_MILLIS / 1000 + " s");
      return null;
    }
  }

  /**
   * Takes {@code c}, opened and handshaked elsewhere (the layer's start connection), as an idle
   * connection of this pool; closes it if the pool is full or closed.
   */
  void adopt(BlockingProxyConnection c) {
    if (open.incrementAndGet() > MAX_CONNECTIONS || closed) {
      discard(c);
      return;
    }
    release(c);
  }

  private void release(BlockingProxyConnection c) {
    if (!c.isOpen()) {
      discard(c);
      return;
    }
    idle.offerFirst(c);
    if (closed && idle.remove(c)) {
      discard(c);
    }
  }

  private void discard(BlockingProxyConnection c) {
    c.close();
    open.decrementAndGet();
  }

  /** Reads, pings, drops or closes idle connections (see the class comment); never blocks. */
  void sweep() {
    List<BlockingProxyConnection> owned = new ArrayList<>();
    for (BlockingProxyConnection c : idle) {
      if (idle.remove(c)) {
        owned.add(c); // a connection an app thread took meanwhile is not ours to touch
      }
    }
    long writerIdle = TimeUnit.SECONDS.toNanos(ProtocolPipeline.WRITER_IDLE_SECONDS);
    for (BlockingProxyConnection c : owned) {
      try {
        c.drain(unsolicited);
        if (c.unusedNanos() > TimeUnit.MILLISECONDS.toNanos(UNUSED_CLOSE_MILLIS) && !c.hasOpenFlows()) {
          log.debug("closing a connect connection unused for " + UNUSED_CLOSE_MILLIS / 1000 + " s");
          discard(c);
          continue;
        }
        c.pingIfIdle(writerIdle);
        idle.offerLast(c);
      } catch (IOException | RuntimeException e) {
        log.debug("dropping a connect connection: " + ProxyConnection.describe(e));
        discard(c);
      }
    }
    if (closed) {
      close();
    }
  }

  /** Connections open (idle or in use). */
  int openConnections() {
    return open.get();
  }

  int idleConnections() {
    return idle.size();
  }

  @Override
  public void close() {
    closed = true;
    BlockingProxyConnection c;
    while ((c = idle.pollFirst()) != null) {
      discard(c);
    }
  }
}
