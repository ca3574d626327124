package dev.mirrord.jvm.podagent;

import dev.mirrord.jvm.podagent.session.ClientSession;
import dev.mirrord.jvm.podagent.session.SessionListener;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the agent exits, and the one registry of what it must undo before it does.
 *
 * <p>A pid-target agent serves one CLI. It exits (code 0) at the first of: its stdin reaches EOF
 * (the CLI holds the pipe, so this fires even when the CLI is killed with SIGKILL); the first
 * authenticated client's connection closes; nobody authenticates within the accept timeout. On
 * SIGTERM/SIGINT the JVM's shutdown hook runs the same clean-up.
 *
 * <p>With an idle timeout ({@link #setIdleTimeout}, the agent's {@code --idle-timeout}, used in a
 * cluster where stdin is no liveness signal), the last authenticated client's disconnect does not
 * end the agent at once: it exits when no client has authenticated again within that time. A
 * laptop that vanishes without closing its connection is noticed by the protocol's read-idle
 * timeout first, so the agent outlives its CLI by at most that plus the idle timeout. Such a kept
 * agent also leaves once its target has exited and no client is connected ({@link
 * #exitWhenTargetExits}): no later session can use it.
 *
 * <p>Every clean-up action (close the server, delete the socket file, later: remove iptables rules)
 * is registered here through {@link #onCleanup}, runs at most once, in reverse order of
 * registration, and a failing action does not stop the others. {@link #cleanUp()} may be called any
 * number of times from any thread.
 */
public final class AgentLifecycle implements SessionListener {
  private static final Logger logger = LoggerFactory.getLogger(AgentLifecycle.class);

  private final CompletableFuture<String> exitReason = new CompletableFuture<>();
  private final AtomicReference<ClientSession> firstClient = new AtomicReference<>();
  private final Deque<Cleanup> cleanups = new ArrayDeque<>();
  private final AtomicBoolean hookInstalled = new AtomicBoolean();
  private final java.util.Set<ClientSession> authenticated =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicLong idleGeneration =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile Duration idleTimeout = Duration.ZERO;
  /** Set once the target has exited: what to say when the agent leaves for it. */
  private volatile String targetGone;

  private record Cleanup(String name, Runnable action, AtomicBoolean done) {
    void runOnce() {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      try {
        action.run();
        logger.debug("clean-up done: {}", name);
      } catch (RuntimeException | Error e) {
        logger.warn("clean-up '{}' failed: {}", name, e.toString());
      }
    }
  }

  /** Registers {@code action}; it will run once, before actions registered earlier. */
  public synchronized void onCleanup(String name, Runnable action) {
    cleanups.push(new Cleanup(name, action, new AtomicBoolean()));
  }

  /**
   * Runs every registered action not run yet. Idempotent; blocks while another thread runs them.
   */
  public synchronized void cleanUp() {
    for (Cleanup c : cleanups) {
      c.runOnce();
    }
  }

  /** Asks the agent to exit; the first reason wins. Any thread. */
  public void requestExit(String reason) {
    if (exitReason.complete(reason)) {
      logger.info("exiting: {}", reason);
    }
  }

  public boolean exitRequested() {
    return exitReason.isDone();
  }

  /** Blocks until {@link #requestExit} and returns the reason. */
  public String awaitExit() throws InterruptedException {
    try {
      return exitReason.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Like {@link #awaitExit()} but gives up after {@code timeout}, returning null. */
  String awaitExit(Duration timeout) throws InterruptedException {
    try {
      return exitReason.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SIGTERM, SIGINT and {@code System.exit} run the clean-up through a shutdown hook. */
  public void installShutdownHook() {
    if (hookInstalled.compareAndSet(false, true)) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    requestExit("JVM shutdown (signal or exit)");
                    cleanUp();
                  },
                  "mirrord-agent-shutdown"));
    }
  }

  /**
   * Exits when {@code in} reaches EOF: the CLI holds our stdin pipe open, so EOF means it is gone.
   * Reads on a daemon thread and discards whatever arrives.
   */
  public void watchStdin(InputStream in) {
    Thread.ofPlatform()
        .daemon()
        .name("mirrord-agent-stdin")
        .start(
            () -> {
              byte[] sink = new byte[256];
              try {
                while (in.read(sink) >= 0) {
                  // Nothing is expected on stdin; only its end matters.
                }
                requestExit("stdin closed (the CLI is gone)");
              } catch (IOException e) {
                requestExit("stdin failed (the CLI is gone): " + e.getMessage());
              }
            });
  }

  /**
   * Exits if no client has authenticated {@code timeout} from now; zero or negative disables it.
   */
  public void startAcceptTimer(Duration timeout) {
    if (timeout.isZero() || timeout.isNegative()) {
      return;
    }
    Thread.ofPlatform()
        .daemon()
        .name("mirrord-agent-accept-timer")
        .start(
            () -> {
              try {
                if (awaitExit(timeout) == null && firstClient.get() == null) {
                  requestExit("no client authenticated within " + timeout.toSeconds() + " s");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  /**
   * Zero (the default): the first authenticated client is the CLI and its disconnect ends the
   * agent. Positive: the agent exits once no client has been connected for this long.
   */
  public void setIdleTimeout(Duration timeout) {
    this.idleTimeout = timeout.isNegative() ? Duration.ZERO : timeout;
  }

  /**
   * With an idle timeout (a kept agent): once {@code targetExit} completes, the agent leaves as soon as no client is
   * connected — at once, or when the last one disconnects — instead of waiting out its idle timeout. A session's key
   * names its target's pid and start time, so no later session can use an agent whose target is gone. A session that
   * runs on is not cut: it ends when its CLI leaves, as with an agent per run (which ignores this).
   */
  public void exitWhenTargetExits(CompletableFuture<?> targetExit, String target) {
    targetExit.thenRun(() -> {
      targetGone = target + " has exited";
      if (!idleTimeout.isZero() && authenticated.isEmpty()) {
        requestExit(targetGone);
      }
    });
  }

  private void startIdleTimer() {
    long generation = idleGeneration.incrementAndGet();
    Duration timeout = idleTimeout;
    Thread.ofPlatform()
        .daemon()
        .name("mirrord-agent-idle-timer")
        .start(
            () -> {
              try {
                if (awaitExit(timeout) == null
                    && idleGeneration.get() == generation
                    && authenticated.isEmpty()) {
                  requestExit("no client connected for " + timeout.toSeconds() + " s");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  @Override
  public void onAuthenticated(ClientSession session) {
    authenticated.add(session);
    idleGeneration.incrementAndGet();
    if (firstClient.compareAndSet(null, session)) {
      logger.debug("{} is the CLI: the agent exits when it disconnects", session.peer());
    }
  }

  @Override
  public void onClosed(ClientSession session) {
    boolean wasAuthenticated = authenticated.remove(session);
    if (!idleTimeout.isZero()) {
      if (wasAuthenticated && authenticated.isEmpty()) {
        String gone = targetGone;
        if (gone != null) {
          requestExit("last client gone (" + session.peer() + ") and " + gone);
          return;
        }
        logger.info("last client gone ({}); exiting unless one connects within {} s", session.peer(), idleTimeout.toSeconds());
        startIdleTimer();
      }
      return;
    }
    if (firstClient.get() == session) {
      requestExit("the CLI's connection closed (" + session.peer() + ")");
    }
  }
}
