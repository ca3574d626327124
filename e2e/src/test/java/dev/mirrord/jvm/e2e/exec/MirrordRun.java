package dev.mirrord.jvm.e2e.exec;

import dev.mirrord.jvm.e2e.lab.LabPaths;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of the real {@code bin/mirrord} as a child process of the test, in the root namespace (as a user would run
 * it; the CLI enters the pod's namespace for its agent itself). It runs as {@code setsid bin/mirrord …} — its own
 * process group, so {@link #close()} also kills an app the test left running — with stdin from /dev/null and the
 * output in files: {@code e2e/target/lab-logs/<lab>/mirrord-NN-<name>/{cmd,stdout,stderr}}. The environment is the
 * test JVM's without {@code JAVA_TOOL_OPTIONS}-like and {@code MIRRORD_*} variables, plus {@code MIRRORD_LOG_FILE} in
 * that directory, so the CLI's, the agent's and the layer's logs land there too ({@code mirrord.log}, {@code
 * mirrord-<session>-agent.log}, {@code mirrord-<session>-layer.log}).
 */
public final class MirrordRun implements AutoCloseable {
  /** Variables of the test JVM that would change what the run does; never passed on. */
  private static final List<String> DROPPED_ENV =
      List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH");

  private static final Pattern SESSION_LINE = Pattern.compile("session (\\S+) in (\\S+), log ");
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static boolean built;

  private final String description;
  private final Path dir;
  private final LabProcess process;

  private MirrordRun(String description, Process process, Path dir) {
    this.description = description;
    this.dir = dir;
    this.process = new LabProcess(description, process, dir.resolve("stdout"), dir.resolve("stderr"),
        () -> "--- mirrord.log (" + dir + "):\n" + LabProcess.tail(cliLog())
            + "--- agent log:\n" + LabProcess.tail(agentLogText()));
  }

  /** {@code repo/bin/mirrord}. */
  static Path binMirrord() {
    return LabPaths.repoRoot().resolve("bin/mirrord");
  }

  /**
   * Runs {@code bin/mirrord --version} once per JVM: it builds the jars if they are missing or older than the sources
   * (about a minute), so that no test's time bound pays for a build.
   */
  public static synchronized void buildJarsOnce() {
    if (built) {
      return;
    }
    try {
      Process p = new ProcessBuilder(binMirrord().toString(), "--version")
          .redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new AssertionError("bin/mirrord --version failed:\n" + out);
      }
      System.out.println("[exec-e2e] " + out.strip().replace("\n", "\n[exec-e2e] "));
      built = true;
    } catch (IOException e) {
      throw new AssertionError("cannot run bin/mirrord", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Starts {@code bin/mirrord args…}. */
  static MirrordRun start(NetnsLab lab, String name, List<String> args) {
    return start(lab, name, Map.of(), List.of(), args);
  }

  /**
   * Starts {@code [prefix…] bin/mirrord args…} with {@code extraEnv} on top of the cleaned environment. A value of
   * {@code null} in {@code extraEnv} removes that variable.
   */
  static MirrordRun start(
      NetnsLab lab, String name, Map<String, String> extraEnv, List<String> prefix, List<String> args) {
    return start(lab, name, extraEnv, prefix, args, dir -> {});
  }

  /** Like {@link #start(NetnsLab, String, Map, List, List)}; {@code prepare} gets the run's directory first. */
  static MirrordRun start(
      NetnsLab lab,
      String name,
      Map<String, String> extraEnv,
      List<String> prefix,
      List<String> args,
      DirSetup prepare) {
    List<String> command = new ArrayList<>(prefix);
    command.add(binMirrord().toString());
    command.addAll(args);
    return launch(lab.logDir(), name, extraEnv, command, prepare, "mirrord " + String.join(" ", args));
  }

  /**
   * Starts {@code bin/mirrord args…} with its output and logs under {@code logDir} (tests without a netns lab, e.g.
   * the container targets').
   */
  public static MirrordRun start(Path logDir, String name, Map<String, String> extraEnv, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(binMirrord().toString());
    command.addAll(args);
    return launch(logDir, name, extraEnv, command, dir -> {}, "mirrord " + String.join(" ", args));
  }

  /** Starts {@code command} (e.g. {@code java -jar mirrord-cli.jar …}) the same way as {@code bin/mirrord}. */
  static MirrordRun startCommand(NetnsLab lab, String name, Map<String, String> extraEnv, List<String> command) {
    return launch(lab.logDir(), name, extraEnv, command, dir -> {}, String.join(" ", command));
  }

  /** Prepares a run's directory before the run starts. */
  @FunctionalInterface
  interface DirSetup {
    void accept(Path dir) throws IOException;
  }

  private static MirrordRun launch(
      Path logDir,
      String name,
      Map<String, String> extraEnv,
      List<String> program,
      DirSetup prepare,
      String what) {
    String dirName = String.format(Locale.ROOT, "mirrord-%02d-%s", COUNTER.incrementAndGet(), name);
    Path dir = logDir.resolve(dirName);
    List<String> command = new ArrayList<>();
    if (SessionChecks.sigintIgnoredHere()) {
      // A JVM started from a background job inherits SIGINT as ignored, and so would mirrord and the app: reset it
      // to the default first (bash cannot un-ignore a signal ignored at its start; perl can).
      command.addAll(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", "--"));
    }
    command.add("setsid");
    command.addAll(program);
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet().removeIf(k -> DROPPED_ENV.contains(k) || k.startsWith("MIRRORD_"));
    env.put("MIRRORD_LOG_FILE", dir.resolve("mirrord.log").toString());
    extraEnv.forEach((k, v) -> {
      if (v == null) {
        env.remove(k);
      } else {
        env.put(k, v);
      }
    });
    try {
      Files.createDirectories(dir);
      prepare.accept(dir);
      Files.writeString(dir.resolve("cmd"), String.join(" ", command) + "\n");
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(dir.resolve("stdout").toFile())
          .redirectError(dir.resolve("stderr").toFile());
      pb.environment().clear();
      pb.environment().putAll(env);
      return new MirrordRun(dirName + " [" + what + "]", pb.start(), dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The CLI's pid ({@code setsid} and {@code bin/mirrord} exec into the JVM), also its process group id. */
  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path dir() {
    return dir;
  }

  /** Waits for the exit and returns the code; {@link AssertionError} with all output if it takes longer. */
  public int waitFor(Duration timeout) {
    return process.waitFor(timeout);
  }

  public String stdout() {
    return process.stdout();
  }

  public String stderr() {
    return process.stderr();
  }

  /** The CLI's log file ({@code MIRRORD_LOG_FILE}); empty if it was not written there. */
  public String cliLog() {
    return read(dir.resolve("mirrord.log"));
  }

  /** The {@code key=value} lines the app printed, as a map (later lines win). */
  Map<String, String> appValues() {
    Map<String, String> values = new HashMap<>();
    for (String line : stdout().lines().toList()) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return values;
  }

  /** Polls stdout until {@code regex} matches; fails with the output if the run exits first or time runs out. */
  public Matcher awaitStdout(String regex, Duration timeout) {
    return process.awaitStdout(regex, timeout);
  }

  /** The session id, once the CLI has logged {@code session <id> in <dir>}. */
  public Optional<String> sessionId() {
    Matcher m = SESSION_LINE.matcher(cliLog());
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** The session directory (session file, agent socket), once the CLI has logged it. */
  public Optional<Path> sessionDir() {
    Matcher m = SESSION_LINE.matcher(cliLog());
    return m.find() ? Optional.of(Path.of(m.group(2))) : Optional.empty();
  }

  /** The agent's log ({@code mirrord-<session>-agent.log} next to the CLI's log). */
  public Path agentLog() {
    return dir.resolve("mirrord-" + sessionId().orElse("<no session>") + "-agent.log");
  }

  public String agentLogText() {
    return sessionId().isPresent() ? read(agentLog()) : "";
  }

  /** Sends {@code SIG<signal>} to the CLI process only. */
  public void signal(String signal) {
    SessionChecks.kill(signal, pid());
  }

  public String outputForHumans() {
    return process.outputForHumans();
  }

  /** Kills the CLI's process group (the CLI and the app it started) and any descendant; never throws. */
  @Override
  public void close() {
    // the group outlives its leader: after a kill -9 of the CLI the app is still in it
    process.close();
  }

  @Override
  public String toString() {
    return description;
  }

  static String read(Path file) {
    return LabProcess.read(file);
  }
}
