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
public final class ChildProcess implements ExecSession.Abortable {
  private static final Logger logger = LoggerFactory.getLogger(ChildProcess.class);

  private static final String JAVA_TOOL_OPTIONS = "JAVA_TOOL_OPTIONS";

  /** Signals forwarded to the child. */
  static final List<String> FORWARDED = Signals.HANDLED;

  private final Process process;
  private final String name;
  private final Duration grace;
  /** The {@code JAVA_TOOL_OPTIONS} the command's JVMs carry (with the layer's {@code -javaagent}), or null. */
  private final String layerOptions;
  /** Signals currently forwarded (not those the JVM inherited as ignored, e.g. INT in background jobs). */
  private final Set<String> forwarding = ConcurrentHashMap.newKeySet();

  private ChildProcess(Process process, String name, Duration grace, String layerOptions) {
    this.process = process;
    this.name = name;
    this.grace = grace;
    this.layerOptions = layerOptions;
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
      return new ChildProcess(p, name, grace, plan.environment().get(JAVA_TOOL_OPTIONS));
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
    stop(liveTree());
  }

  /**
   * The session's agent never came up: a JVM of the command has not run its main, since its layer's premain waits for
   * the agent, but it may still be in its own start, where a SIGTERM makes it print "Error occurred during
   * initialization of VM / java.lang.InternalError: Bad level: 2" on the app's stdout (its shutdown raced its module
   * system's start). So the command's JVMs that carry this session's layer are killed outright (SIGKILL), and the rest
   * of the tree stopped as {@link #close()} does. Never throws.
   */
  @Override
  public void abortBeforeAgent() {
    List<ProcessHandle> tree = liveTree();
    List<ProcessHandle> jvms =
        tree.stream().filter(h -> jvmWithTheLayer(PROC.resolve(Long.toString(h.pid())), layerOptions)).toList();
    if (!jvms.isEmpty()) {
      logger.info("killing the JVM(s) {} of '{}', still before their main", jvms.stream().map(ProcessHandle::pid).toList(), name);
      jvms.forEach(ProcessHandle::destroyForcibly);
      tree.removeAll(jvms);
    }
    stop(tree);
  }

  private static final java.nio.file.Path PROC = java.nio.file.Path.of("/proc");

  /**
   * Whether {@code /proc/N} ({@code procDir}) is a JVM (its maps name a {@code libjvm.so}) whose {@code
   * JAVA_TOOL_OPTIONS} (as its {@code getenv} sees it) are {@code layerOptions}, this session's. False if either file
   * cannot be read (it ended).
   */
  static boolean jvmWithTheLayer(java.nio.file.Path procDir, String layerOptions) {
    if (layerOptions == null) {
      return false;
    }
    try {
      java.util.Map<String, String> env =
          dev.mirrord.jvm.protocol.target.TargetFiles.parseEnviron(java.nio.file.Files.readAllBytes(procDir.resolve("environ")));
      if (!layerOptions.equals(env.get(JAVA_TOOL_OPTIONS))) {
        return false;
      }
      try (var maps = java.nio.file.Files.lines(procDir.resolve("maps"), java.nio.charset.StandardCharsets.ISO_8859_1)) {
        return maps.anyMatch(l -> l.endsWith("/libjvm.so"));
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  private List<ProcessHandle> liveTree() {
    List<ProcessHandle> tree = new ArrayList<>();
    process.descendants().forEach(tree::add);
    if (process.isAlive()) {
      tree.add(process.toHandle());
    }
    tree.removeIf(h -> !h.isAlive());
    return tree;
  }

  private void stop(List<ProcessHandle> tree) {
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
