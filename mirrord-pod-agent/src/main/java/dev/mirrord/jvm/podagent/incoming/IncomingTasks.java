package dev.mirrord.jvm.podagent.incoming;

import dev.mirrord.jvm.podagent.iptables.ChainNames;
import dev.mirrord.jvm.podagent.iptables.ExecIpTables;
import dev.mirrord.jvm.podagent.iptables.IpTables;
import dev.mirrord.jvm.podagent.iptables.IpTablesGuard;
import dev.mirrord.jvm.podagent.iptables.IpTablesRedirector;
import dev.mirrord.jvm.podagent.sniffer.AfPacketSource;
import dev.mirrord.jvm.podagent.sniffer.TcpFlowTracker;
import dev.mirrord.jvm.podagent.sniffer.SnifferSubscriber;
import dev.mirrord.jvm.podagent.sniffer.TcpSniffer;
import dev.mirrord.jvm.podagent.stealer.ConntrackFlush;
import dev.mirrord.jvm.podagent.stealer.TcpStealer;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the agent's shared incoming tasks. Each is created on first use (an agent that never steals
 * touches no iptables rule; one that never mirrors opens no packet socket) and all are closed by
 * {@link #close}, which the agent's lifecycle runs on every exit path. Thread-safe.
 */
public final class IncomingTasks implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(IncomingTasks.class);

  /** How the agent steals; from its command line. */
  public record StealSettings(boolean flushConnections, Duration handBackGrace, int agentGid) {}

  private final String sessionId;
  private final StealSettings settings;
  private EventLoopGroup stealLoops;
  private IpTablesRedirector redirector;
  private IpTablesGuard guard;
  private TcpStealer stealer;
  private TcpSniffer sniffer;
  private boolean closed;
  private final boolean captureWarmUp;
  private final java.util.concurrent.atomic.AtomicBoolean captureWarmedUp =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final WarmUpPriority warmUpPriority = new WarmUpPriority(Path.of("/proc"));

  public IncomingTasks(String sessionId, StealSettings settings) {
    this(sessionId, settings, true);
  }

  /**
   * @param captureWarmUp whether {@link #warmUpCapture} does anything: false when the CLI said its
   *     session does not mirror ({@code --no-warm-up}), so that an agent on the app's own
   *     machine leaves the CPU to the app's start
   */
  public IncomingTasks(String sessionId, StealSettings settings, boolean captureWarmUp) {
    this.sessionId = sessionId;
    this.settings = settings;
    this.captureWarmUp = captureWarmUp;
  }

  /** The stealer, created (with its iptables chains' guard) on first call. Blocking. */
  public synchronized TcpStealer stealer() throws IOException {
    check();
    if (stealer == null) {
      List<IpTables> families = new ArrayList<>();
      ExecIpTables.detect(false).ifPresent(families::add);
      if (families.isEmpty()) {
        throw new IOException("iptables is not installed in the agent's environment (apt-get install iptables)");
      }
      if (Files.exists(Path.of("/proc/net/if_inet6"))) {
        ExecIpTables.detect(true).ifPresent(families::add);
      }
      ChainNames chains = ChainNames.forAgent(ProcessHandle.current().pid(), sessionId);
      redirector =
          new IpTablesRedirector(families, chains, settings.agentGid(), IncomingTasks::isLiveAgent);
      redirector.sweepLeftovers();
      guard = IpTablesGuard.start(families, chains);
      stealLoops =
          Transport.preferred().newGroup(1, new DefaultThreadFactory("mirrord-steal", true));
      stealer =
          new TcpStealer(
              stealLoops,
              redirector,
              settings.flushConnections() ? ConntrackFlush.create() : port -> {},
              settings.handBackGrace(),
              sessionId,
              chains.passThroughGid());
      logger.info("stealer ready: chains {} / {} with {}", chains.input(), chains.output(),
          families.stream().map(IpTables::name).toList());
    }
    return stealer;
  }

  /**
   * Links the capture's code on a daemon thread of its own ({@link AfPacketSource#warmUp}) while
   * the CLI and the app start, so that the first mirror subscription does not: called when a client
   * (the CLI, first) has authenticated, not at READY, where its ~100–250 ms of CPU competed with the
   * handshake the CLI waits for on a 2-core machine; the app's JVM start still gives it time. Once
   * per agent, and never in an agent started with {@code --no-warm-up} (the first mirror
   * subscription then links the capture). Keeps no socket or ring.
   */
  public void warmUpCapture() {
    if (!captureWarmUp || !captureWarmedUp.compareAndSet(false, true)) {
      return;
    }
    dev.mirrord.jvm.protocol.jvm.WarmUps.start("mirrord-agent-warm-up", () -> {
      long t0 = System.nanoTime();
      boolean lowered = warmUpPriority.lower();
      String failed;
      try {
        failed = AfPacketSource.warmUp();
      } finally {
        if (lowered) {
          warmUpPriority.restore();
        }
      }
      logger.debug("capture warm-up {} in {} ms{}", failed == null ? "done" : "failed (" + failed + ")",
          (System.nanoTime() - t0) / 1_000_000, lowered ? " (at the lower weight)" : "");
    });
  }

  /** Whether {@link #warmUpCapture} has started its thread, for tests. */
  boolean captureWarmUpStarted() {
    return captureWarmedUp.get();
  }

  /** The sniffer, created (opening the packet socket) on first call. Blocking. */
  private synchronized TcpSniffer sniffer() throws IOException {
    check();
    if (sniffer == null) {
      warmUpPriority.restore(); // a warm-up still running holds what this needs: its normal weight again
      sniffer = TcpSniffer.start(AfPacketSource.open(), TcpFlowTracker.Config.defaults());
      logger.info("sniffer ready");
    }
    return sniffer;
  }

  /** Mirrors {@code port} to {@code subscriber}, opening the capture if none runs. Blocking. */
  public void mirror(int port, SnifferSubscriber subscriber) throws IOException {
    changeMirrors(true, sn -> sn.subscribe(port, subscriber));
  }

  /** Stops mirroring {@code port} to {@code subscriber}; see {@link #changeMirrors}. */
  public void stopMirroring(int port, SnifferSubscriber subscriber) throws IOException {
    changeMirrors(false, sn -> sn.unsubscribe(port, subscriber));
  }

  /** Stops mirroring every port to {@code subscriber} (its client went away); see {@link #changeMirrors}. */
  public void stopMirroringAll(SnifferSubscriber subscriber) throws IOException {
    changeMirrors(false, sn -> sn.unsubscribeAll(subscriber));
  }

  /** A change of the sniffer's subscriptions. */
  private interface MirrorChange {
    void apply(TcpSniffer sniffer) throws IOException;
  }

  /**
   * Applies {@code change} to the sniffer (opened first if {@code open}; nothing to do if none runs and not {@code
   * open}). Once no port is mirrored, also when the change failed, the capture closes: its ring (4 MiB before a
   * packet, 64 MiB after traffic, 8 MiB after a quiet minute) counts in the agent's RSS, and a kept agent between
   * sessions, or one whose app stopped listening, needs none. The next subscription opens a new one, from the first
   * ring. The capture thread is stopped outside this object's lock, which the steal path's event loop takes ({@link
   * #existingStealer}).
   */
  private void changeMirrors(boolean open, MirrorChange change) throws IOException {
    TcpSniffer unused = null;
    try {
      synchronized (this) {
        TcpSniffer current = open ? sniffer() : sniffer;
        if (current != null) {
          try {
            change.apply(current);
          } finally {
            unused = detachIfUnused();
          }
        }
      }
    } finally {
      closeDetached(unused);
    }
  }

  /** The sniffer, now no longer this object's, if no port is mirrored any more; else null. */
  private TcpSniffer detachIfUnused() {
    if (sniffer == null || !sniffer.ports().isEmpty()) {
      return null;
    }
    TcpSniffer unused = sniffer;
    sniffer = null;
    return unused;
  }

  private static void closeDetached(TcpSniffer unused) {
    if (unused != null) {
      unused.close();
      logger.info("sniffer closed: no port is mirrored");
    }
  }

  /** The stealer if one was created. */
  public synchronized Optional<TcpStealer> existingStealer() {
    return Optional.ofNullable(stealer);
  }

  /** The sniffer while one runs (a mirrored port), for tests. */
  synchronized Optional<TcpSniffer> existingSniffer() {
    return Optional.ofNullable(sniffer);
  }

  /**
   * Whether {@code pid} is a live mirrord agent: a chain named after a dead one (or after a pid now
   * used by something else) is a leftover.
   */
  static boolean isLiveAgent(long pid) {
    try {
      byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return new String(cmdline, java.nio.charset.StandardCharsets.UTF_8).contains("mirrord-pod-agent");
    } catch (IOException e) {
      return false;
    }
  }

  /** Rules first (the target serves again at once), then sockets and threads. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (stealer != null) {
      stealer.close();
    }
    if (redirector != null) {
      redirector.close();
    }
    if (guard != null) {
      guard.close();
    }
    if (stealLoops != null) {
      stealLoops.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    if (sniffer != null) {
      sniffer.close();
    }
  }

  private void check() throws IOException {
    if (closed) {
      throw new IOException("the agent is shutting down");
    }
  }
}
