package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user's running command. While {@link #waitFor} runs, SIGINT and SIGTERM sent to {@code
 * mirrord} are forwarded to the child (the CLI keeps running until the child exits, then cleans
 * up). {@link #close()} stops whatever is left of the child's process tree after a grace period.
 */
public final class ChildProcess implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ChildProcess.class);

  /** Signals forwarded to the child. */
  static final List<String> FORWARDED = Signals.HANDLED;

  private final Process process;
  private final String name;
  private final Duration grace;
  /** Signals currently forwarded (not those the JVM inherited as ignored, e.g. INT in background jobs). */
  private final Set<String> forwarding = ConcurrentHashMap.newKeySet();

  private ChildProcess(Process process, String name, Duration grace) {
    this.process = process;
    this.name = name;
    this.grace = grace;
  }

  /**
   * Starts the plan's command.
   *
   * @throws MirrordException 127 if the command does not exist, 126 if it cannot be executed
   */
  public static ChildProcess start(JvmLauncher.LaunchPlan plan, Duration grace) {
    String name = plan.command().get(0);
    try {
      Process p = plan.processBuilder().start();
      logger.info("started '{}' as pid {}", name, p.pid());
      return new ChildProcess(p, name, grace);
    } catch (IOException e) {
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("error=2,") || msg.contains("No such file")) {
        throw new MirrordException(
            ExitCode.COMMAND_NOT_FOUND,
            "cannot run '" + name + "': command not found; check the name and PATH");
      }
      throw new MirrordException(
          ExitCode.COMMAND_NOT_EXECUTABLE,
          "cannot run '" + name + "' (" + msg + "); check that it is executable");
    }
  }

  /** The signals being forwarded right now (for tests and logs). */
  public Set<String> forwarding() {
    return Set.copyOf(forwarding);
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Waits for the child and returns its exit code (128+signal if a signal killed it, as the JDK
   * reports it on Linux). With {@code forwardSignals}, SIGINT/SIGTERM handlers are installed for
   * the duration and restored afterwards.
   */
  public int waitFor(boolean forwardSignals) throws InterruptedException {
    Signals signals = forwardSignals ? Signals.handle(this::forward) : null;
    if (signals != null) {
      forwarding.addAll(signals.delivered());
    }
    try {
      int code = process.waitFor();
      logger.info("'{}' (pid {}) exited with {}", name, process.pid(), code);
      return code;
    } finally {
      if (signals != null) {
        forwarding.clear();
        signals.close();
      }
    }
  }

  /** Sends SIG{@code signal} to the child (as {@code kill -<signal> <pid>}). */
  void forward(String signal) {
    logger.info("forwarding SIG{} to pid {}", signal, process.pid());
    if (!process.isAlive()) {
      return;
    }
    sendSignal(process.pid(), signal);
  }

  static void sendSignal(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0) {
        return;
      }
    } catch (IOException e) {
      logger.debug("kill -{} {} failed: {}", signal, pid, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (signal.equals("TERM")) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy); // SIGTERM on Linux
    }
  }

  /**
   * Stops what is still running: SIGTERM to the child and its descendants, then SIGKILL after the
   * grace period. Never throws.
   */
  @Override
  public void close() {
    List<ProcessHandle> tree = new ArrayList<>();
    process.descendants().forEach(tree::add);
    if (process.isAlive()) {
      tree.add(process.toHandle());
    }
    tree.removeIf(h -> !h.isAlive());
    if (tree.isEmpty()) {
      return;
    }
    logger.info("stopping {} process(es) left by '{}'", tree.size(), name);
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle h : tree) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        try {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
          // still alive; killed below
        }
      }
    }
    for (ProcessHandle h : tree) {
      if (h.isAlive()) {
        logger.warn("pid {} did not stop within {} ms; killing it", h.pid(), grace.toMillis());
        h.destroyForcibly();
      }
    }
  }
}
