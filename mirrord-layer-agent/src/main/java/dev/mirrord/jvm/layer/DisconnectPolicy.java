package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.LayerConfig.OnDisconnect;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the layer does when it has no connection to the CLI: at start (it cannot reach it) or later
 * (the CLI exited, crashed, was killed, or ended the session because it lost its agent). With
 * {@code on.disconnect=exit} (the default) the app must not run on without mirrord — its hooks
 * would fall back to the laptop's network and DNS while the developer believes it runs in the pod —
 * so the layer writes one line to the app's stderr and ends the JVM with {@link #EXIT_CODE}, as
 * mirrord's layer ends its process. With {@code continue} it logs and the app runs on unhooked.
 *
 * <p>Nothing is printed while the JVM is already shutting down: when the app ends first, the CLI
 * closes the connections of whatever is still exiting (child JVMs get a SIGTERM first).
 */
final class DisconnectPolicy {
  /** The JVM's exit code after a lost connection (sysexits' EX_TEMPFAIL: try again). */
  static final int EXIT_CODE = 75;

  /** How long the app's shutdown hooks may run before the JVM halts. */
  static final long HOOKS_BOUND_MILLIS = 2000;

  /**
   * How long a lost connection waits for the JVM to begin its shutdown before it counts: the CLI may
   * close a connection while the app is on its way out (a signal delivered, {@code System.exit}
   * called but the shutdown not begun yet).
   */
  static final long SHUTDOWN_GRACE_MILLIS = 300;

  /** The JVM, as far as this class needs it (a fake in tests). */
  interface Jvm {
    /** Whether the JVM has begun its shutdown (System.exit, a signal, the last thread ended). */
    boolean shuttingDown();

    /** Ends the JVM with {@code code}: runs the shutdown hooks for a bounded time, then halts. */
    void exit(int code);
  }

  private final OnDisconnect mode;
  private final Jvm jvm;
  private final long graceMillis;
  /** Runs a lost connection's decision (a thread of its own: the grace must not block the event loop). */
  private final java.util.concurrent.Executor decider;
  private final PrintStream err;
  private final LayerLog log;
  private final AtomicBoolean fired = new AtomicBoolean();
  /** The last error the CLI told this layer about (an {@code AgentLog} at ERROR), or null. */
  private volatile String cliSaid;

  DisconnectPolicy(
      OnDisconnect mode,
      Jvm jvm,
      long graceMillis,
      java.util.concurrent.Executor decider,
      PrintStream err,
      LayerLog log) {
    this.mode = mode;
    this.jvm = jvm;
    this.graceMillis = graceMillis;
    this.decider = decider;
    this.err = err;
    this.log = log;
  }

  /** The real JVM, printing to {@code System.err}. */
  static DisconnectPolicy of(OnDisconnect mode, LayerLog log) {
    return new DisconnectPolicy(
        mode,
        RUNTIME,
        SHUTDOWN_GRACE_MILLIS,
        new java.util.concurrent.Executor() { // not a lambda: made in premain (LayerStartup says why)
          @Override
          public void execute(Runnable r) {
            Thread t = new Thread(r, "mirrord-disconnect");
            t.setDaemon(true);
            t.start();
          }
        },
        System.err,
        log);
  }

  /** The CLI reported {@code message} as an error: the likely reason of a close that follows. */
  void cliError(String message) {
    cliSaid = message;
  }

  /** The connection to the CLI at {@code peer} was lost after a successful start. */
  void connectionLost(String peer) {
    decider.execute(() -> {
      String why = cliSaid != null ? cliSaid : "the mirrord CLI exited, was killed or stopped answering";
      if (mode == OnDisconnect.EXIT && awaitShutdown()) {
        log.info("connection to mirrord at " + peer + " closed; the JVM is already shutting down");
        return;
      }
      decide("lost the connection to mirrord at " + peer + " (" + why + ")");
    });
  }

  /** Whether the JVM begins its shutdown within {@link #graceMillis}. */
  private boolean awaitShutdown() {
    long deadline = System.nanoTime() + graceMillis * 1_000_000;
    while (true) {
      if (jvm.shuttingDown()) {
        return true;
      }
      if (System.nanoTime() >= deadline) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /**
   * The layer could not start a session with the CLI ({@code reason}). With {@code exit} the JVM
   * ends; returns false if it keeps running (then the caller reports the disabled layer).
   */
  boolean startFailed(String reason) {
    if (mode != OnDisconnect.EXIT) {
      return false;
    }
    decide("cannot start a session with mirrord: " + reason);
    return true;
  }

  private void decide(String what) {
    if (!fired.compareAndSet(false, true)) {
      return;
    }
    if (jvm.shuttingDown()) {
      log.info(what + "; the JVM is already shutting down");
      return;
    }
    if (mode == OnDisconnect.CONTINUE) {
      log.warn(what + "; the app keeps running without mirrord (layer.on_disconnect=continue)");
      return;
    }
    String line =
        "mirrord: "
            + what
            + "; ending this JVM (pid "
            + ProcessHandle.current().pid()
            + ") with exit code "
            + EXIT_CODE
            + " so that it does not run on without mirrord: run it again with mirrord exec, or set"
            + " layer.on_disconnect=continue to keep it running"
            + (log.file() == null ? "" : " (see " + log.file() + ")");
    log.error(line);
    try {
      err.println(line);
      err.flush();
    } catch (Throwable ignored) {
      // the exit matters more than the line
    }
    jvm.exit(EXIT_CODE);
  }

  private static final Jvm RUNTIME =
      new Jvm() {
        @Override
        public boolean shuttingDown() {
          return dev.mirrord.jvm.protocol.jvm.JvmShutdown.begun();
        }

        @Override
        public void exit(int code) {
          Thread halt =
              new Thread(
                  () -> {
                    try {
                      Thread.sleep(HOOKS_BOUND_MILLIS);
                    } catch (InterruptedException ignored) {
                      // halt now
                    }
                    Runtime.getRuntime().halt(code);
                  },
                  "mirrord-disconnect-halt");
          halt.setDaemon(true);
          halt.start();
          Thread exit = new Thread(() -> System.exit(code), "mirrord-disconnect-exit");
          exit.setDaemon(true);
          exit.start();
        }
      };
}
