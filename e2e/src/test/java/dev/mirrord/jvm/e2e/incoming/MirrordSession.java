package dev.mirrord.jvm.e2e.incoming;

import dev.mirrord.jvm.e2e.lab.LabProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code mirrord exec … --target pid/<pod> -- <app>} run in a dev namespace of an {@link IncomingLab}: the CLI
 * from the lab's jar snapshot, as {@code setsid ip netns exec NS env -u JAVA_TOOL_OPTIONS… perl -e '$SIG{INT}=DEFAULT;
 * exec' java … -jar mirrord-cli.jar exec …} (everything execs, so {@link #cliPid()} is the CLI JVM and its process
 * group). Perl restores SIGINT: a JVM started from a background job (Maven under CI) inherits it as ignored, and the
 * tests send SIGINT as a user's Ctrl-C would. The CLI's, agent's and layer's logs go to {@link #dir()}.
 *
 * <p>The pids of the agent (the CLI's child {@code java -jar …/mirrord-pod-agent.jar}), its iptables watchdog ({@code sh
 * -c trap …}, the agent's child) and the app are looked up once the app is ready ({@link #awaitApp}).
 */
final class MirrordSession implements AutoCloseable {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final Pattern SESSION_LINE = Pattern.compile("session (\\S+) in (\\S+), log ");

  private final IncomingLab lab;
  private final String ns;
  private final LabProcess cli;
  private final Path dir;
  private final String appMain;
  private long agentPid = -1;
  private long watchdogPid = -1;
  private long appPid = -1;

  private MirrordSession(IncomingLab lab, String ns, LabProcess cli, Path dir, String appMain) {
    this.lab = lab;
    this.ns = ns;
    this.cli = cli;
    this.dir = dir;
    this.appMain = appMain;
  }

  static MirrordSession start(IncomingLab lab, String ns, List<String> flags, List<String> app) {
    Path dir = lab.lab().logDir().resolve(String.format(Locale.ROOT, "session-%02d", COUNTER.incrementAndGet()));
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> cmd = new ArrayList<>(List.of("env", "-u", "JAVA_TOOL_OPTIONS", "-u", "JDK_JAVA_OPTIONS", "-u",
        "_JAVA_OPTIONS", "-u", "CLASSPATH", "MIRRORD_LOG_FILE=" + dir.resolve("mirrord.log"),
        "perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", "--",
        dev.mirrord.jvm.e2e.apps.JavaApps.javaExecutable().toString(), "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Xshare:auto",
        "-Dmirrord.layer.jar=" + lab.jar("mirrord-layer-agent"),
        "-Dmirrord.agent.jar=" + lab.jar("mirrord-pod-agent"),
        "-jar", lab.jar("mirrord-cli").toString(), "exec"));
    cmd.addAll(flags);
    cmd.addAll(List.of("--target", "pid/" + lab.lab().podPid(), "--"));
    cmd.addAll(app);
    String main = app.stream().filter(a -> a.startsWith("dev.mirrord.")).findFirst().orElse(app.get(0));
    LabProcess p = lab.lab().exec(ns, Map.of(), cmd);
    return new MirrordSession(lab, ns, p, dir, main);
  }

  long cliPid() {
    return cli.pid();
  }

  LabProcess process() {
    return cli;
  }

  Path dir() {
    return dir;
  }

  String ns() {
    return ns;
  }

  String stdout() {
    return cli.stdout();
  }

  String stderr() {
    return cli.stderr();
  }

  /**
   * Waits for the app's line matching {@code regex} on the CLI's stdout (the app inherits it), then records the pids
   * of the agent, its watchdog and the app.
   */
  Matcher awaitApp(String regex, Duration timeout) {
    Matcher m = cli.awaitStdout(regex, timeout);
    for (ProcessHandle h : cli.process().toHandle().descendants().toList()) {
      String cmd = IncomingLab.cmdline(h.pid());
      if (cmd.contains("mirrord-pod-agent.jar")) {
        agentPid = h.pid();
      } else if (cmd.contains(appMain)) {
        appPid = h.pid();
      } else if (cmd.startsWith("sh -c trap") && cmd.contains("MIRRORD_")) {
        watchdogPid = h.pid();
      }
    }
    return m;
  }

  long agentPid() {
    return agentPid;
  }

  /** The agent, which {@link #close()} then leaves alone (an agent kept for the next session, {@code --agent-ttl}). */
  long keepAgent() {
    long pid = agentPid;
    agentPid = -1;
    watchdogPid = -1; // the agent's, it stays with it
    return pid;
  }

  long watchdogPid() {
    return watchdogPid;
  }

  long appPid() {
    return appPid;
  }

  /** The session's own processes still alive: CLI, agent, watchdog, app (those known). */
  List<String> liveProcesses() {
    List<String> live = new ArrayList<>();
    for (var e : Map.of("cli", cliPid(), "agent", agentPid, "watchdog", watchdogPid, "app", appPid).entrySet()) {
      if (e.getValue() > 0 && IncomingLab.alive(e.getValue())) {
        live.add(e.getKey() + " " + e.getValue() + " " + IncomingLab.cmdline(e.getValue()));
      }
    }
    return live;
  }

  void signalCli(String signal) {
    IncomingLab.kill(signal, cliPid());
  }

  void killAgent() {
    if (agentPid <= 0) {
      throw new AssertionError("agent pid unknown");
    }
    IncomingLab.kill("KILL", agentPid);
  }

  /** The session id, once the CLI has logged it. */
  Optional<String> sessionId() {
    Matcher m = SESSION_LINE.matcher(read(dir.resolve("mirrord.log")));
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** The session's private dir ({@code <tmp>/mirrord-<id>}), once the CLI has logged it. */
  Optional<Path> sessionDir() {
    Matcher m = SESSION_LINE.matcher(read(dir.resolve("mirrord.log")));
    return m.find() ? Optional.of(Path.of(m.group(2))) : Optional.empty();
  }

  /** The CLI's log file so far. */
  String cliLog() {
    return read(dir.resolve("mirrord.log"));
  }

  /** The agent's log file so far ("" before the session id is known). */
  String agentLog() {
    return sessionId().map(id -> read(dir.resolve("mirrord-" + id + "-agent.log"))).orElse("");
  }

  String outputForHumans() {
    String id = sessionId().orElse("?");
    return cli.outputForHumans() + "--- mirrord.log:\n" + tail(read(dir.resolve("mirrord.log")))
        + "--- agent log:\n" + tail(read(dir.resolve("mirrord-" + id + "-agent.log")))
        + "--- layer log:\n" + tail(read(dir.resolve("mirrord-" + id + "-layer.log")));
  }

  /**
   * Kills the CLI's group (CLI and app) and the agent if still alive, and lets the agent's iptables watchdog finish
   * its clean-up (up to 5 s) before whatever is left of the process tree is killed: {@link LabProcess#close} kills
   * every descendant, and the watchdog is one until the agent's death reparents it. Never throws.
   */
  @Override
  public void close() {
    IncomingLab.kill("KILL", -cliPid());
    for (long pid : new long[] {appPid, agentPid}) {
      if (pid > 0 && IncomingLab.alive(pid)) {
        IncomingLab.kill("KILL", pid);
      }
    }
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (watchdogPid > 0 && IncomingLab.alive(watchdogPid) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    cli.close();
  }

  private static String tail(String s) {
    return (s.length() > 5000 ? "…" + s.substring(s.length() - 5000) : s) + (s.endsWith("\n") ? "" : "\n");
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
