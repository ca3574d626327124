package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.io.PrintStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}). Tiny and never throws:
 * the app must run whatever happens to the layer.
 *
 * <p>It reads the session file ({@link LayerConfig}) and decides whether the layer stays out of this
 * JVM ({@link JvmSkip}: a build tool's own JVM, or one the user listed): then it writes one log
 * line and returns, before anything costly. Otherwise it makes sure the {@code layer.bootstrap}
 * package is visible from the boot class loader ({@link BootstrapInjector}: normally the whole layer
 * is the boot loader's already, by the jar's {@code Boot-Class-Path}); this class and the ones it
 * uses before that never reference that package. Everything else happens in {@link LayerStartup}. A fatal problem (bad session file, no CLI, rejected handshake) prints
 * exactly one line to stderr, {@code mirrord: layer disabled: <reason> (see <log file>)}, and
 * leaves the app running unhooked — except that with {@code on.disconnect=exit} (the default) a
 * session the CLI cannot give ends the JVM with exit code 75 instead ({@link DisconnectPolicy}).
 */
public final class LayerAgent {
  private static final AtomicBoolean STARTED = new AtomicBoolean();
  private static final AtomicBoolean REPORTED = new AtomicBoolean();

  private LayerAgent() {}

  public static void premain(String agentArgs, Instrumentation inst) {
    start(agentArgs, inst);
  }

  public static void agentmain(String agentArgs, Instrumentation inst) {
    start(agentArgs, inst);
  }

  private static void start(String agentArgs, Instrumentation inst) {
    long premainNanos = System.nanoTime();
    try {
      if (!STARTED.compareAndSet(false, true)) {
        return; // the agent was given twice; the first one is in charge
      }
      LayerConfig config;
      try {
        config = LayerConfig.load(agentArgs);
      } catch (LayerConfigException e) {
        if (!(e.noSession() && JvmSkip.isBuildTool())) {
          reportDisabled(e.getMessage(), e.logFile());
        } // else: a build tool started after its session ended stays quiet, as it would with one
        return;
      }
      if (skipped(config)) {
        return;
      }
      String bootstrap;
      boolean bootstrapOk;
      try {
        bootstrap = BootstrapInjector.inject(inst, LayerAgent.class);
        bootstrapOk = true;
      } catch (Exception e) {
        bootstrap = e.toString();
        bootstrapOk = false;
      }
      LayerStartup.start(config, inst, bootstrapOk, bootstrap, premainNanos);
    } catch (Throwable t) {
      reportDisabled("unexpected " + t, null);
    }
  }

  /**
   * Whether the layer stays out of this JVM ({@link JvmSkip}): then one line goes to the layer log
   * (and, for Maven running {@code exec:java}, one to stderr) and nothing else happens.
   */
  private static boolean skipped(LayerConfig config) {
    String reason = JvmSkip.skipReason(config);
    if (reason == null) {
      return false;
    }
    String hint = JvmSkip.inProcessRunHint(System.getProperty("sun.java.command"));
    LayerLog.appendOne(
        config.logFile(),
        config.logLevel(),
        "skipped: "
            + reason
            + "; no hooks, no connection; the JVMs it starts get the layer"
            + (hint == null ? "" : ". " + hint));
    if (hint != null) {
      printLine("mirrord: " + hint);
    }
    return true;
  }

  /** Prints the one stderr line (at most once per JVM). */
  static void reportDisabled(String reason, Path logFile) {
    if (!REPORTED.compareAndSet(false, true)) {
      return;
    }
    printLine(
        "mirrord: layer disabled: " + reason + (logFile == null ? "" : " (see " + logFile + ")"));
  }

  private static void printLine(String line) {
    try {
      PrintStream err = System.err;
      err.println(line);
      err.flush();
    } catch (Throwable ignored) {
      // nothing left to do
    }
  }
}
