package dev.mirrord.jvm.layer;

import java.io.PrintStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent's entry point ({@code Premain-Class} and {@code Agent-Class}). Tiny and never throws:
 * the app must run whatever happens to the layer.
 *
 * <p>It first makes the {@code layer.bootstrap} package visible from the boot class loader ({@link
 * BootstrapInjector}); this class therefore never references that package. Everything else happens in
 * {@link LayerStartup}. A fatal problem (bad session file, no CLI, rejected handshake) prints
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
    try {
      if (!STARTED.compareAndSet(false, true)) {
        return; // the agent was given twice; the first one is in charge
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
      LayerStartup.start(agentArgs, inst, bootstrapOk, bootstrap);
    } catch (Throwable t) {
      reportDisabled("unexpected " + t, null);
    }
  }

  /** Prints the one stderr line (at most once per JVM). */
  static void reportDisabled(String reason, Path logFile) {
    if (!REPORTED.compareAndSet(false, true)) {
      return;
    }
    try {
      PrintStream err = System.err;
      err.println(
          "mirrord: layer disabled: " + reason + (logFile == null ? "" : " (see " + logFile + ")"));
      err.flush();
    } catch (Throwable ignored) {
      // nothing left to do
    }
  }
}
