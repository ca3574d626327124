package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.protocol.jvm.AgentJvmOptions;
import dev.mirrord.jvm.protocol.jvm.AotCache;
import dev.mirrord.jvm.protocol.relay.Transport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the pod agent for {@code --target pid/N} on this host:
 *
 * <pre>
 *   [setsid] nsenter --net=/proc/N/ns/net -- &lt;java&gt; &lt;JVM options, AOT cache&gt; -jar &lt;agent jar&gt;
 *       --target-pid N --listen unix:&lt;session dir&gt;/agent.sock --accept-timeout 30
 *       --log-file &lt;agent log&gt; [-v]          (env MIRRORD_AGENT_TOKEN=&lt;token&gt;)
 * </pre>
 *
 * <p>The token travels in the environment, never on the command line ({@code ps} shows command
 * lines to every user). The agent's stdin is a pipe the CLI holds open and never writes: when the
 * CLI dies, even by {@code kill -9}, the agent reads EOF and exits. {@code setsid} keeps the
 * terminal's Ctrl-C away from the agent: the CLI decides when it stops. Everything before the
 * agent's own arguments is a {@link CommandPrefix}, so tests run a fake agent instead.
 */
public final class LocalAgentLauncher implements AgentLauncher {
  private static final Logger logger = LoggerFactory.getLogger(LocalAgentLauncher.class);

  /** The variable carrying the session token to the agent. */
  public static final String TOKEN_ENV = "MIRRORD_AGENT_TOKEN";

  /** The line the agent prints on stdout once it listens: {@code MIRRORD_AGENT_READY <address>}. */
  public static final String READY_PREFIX = "MIRRORD_AGENT_READY ";

  public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(20);

  /** Seconds the agent waits for the CLI's connection before giving up. */
  public static final int ACCEPT_TIMEOUT_SECONDS = 30;

  private static final int STDERR_LINES_KEPT = 20;

  /** The command that runs the agent for a pid, without the agent's own arguments. */
  @FunctionalInterface
  public interface CommandPrefix {
    /**
     * @throws MirrordException if a needed tool or jar is missing
     */
    List<String> forPid(int pid);
  }

  private final Path procRoot;
  private final BooleanSupplier isRoot;
  private final CommandPrefix prefix;
  private final Duration readyTimeout;
  /** {@code agent.ttl}: 0, or seconds the agent stays after each session for the next one ({@link KeptAgents}). */
  private final int ttlSeconds;
  private final KeptAgents kept;

  /**
   * @param procRoot {@code /proc} (tests pass a temp dir)
   * @param isRoot whether this process may enter another process's network namespace
   * @param prefix what runs the agent (nsenter + java -jar, or a fake in tests)
   * @param readyTimeout how long to wait for the READY line
   */
  public LocalAgentLauncher(
      Path procRoot, BooleanSupplier isRoot, CommandPrefix prefix, Duration readyTimeout) {
    this(procRoot, isRoot, prefix, readyTimeout, 0, null);
  }

  private LocalAgentLauncher(
      Path procRoot, BooleanSupplier isRoot, CommandPrefix prefix, Duration readyTimeout, int ttlSeconds, Path keptDir) {
    this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
    this.isRoot = Objects.requireNonNull(isRoot, "isRoot");
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    this.readyTimeout = Objects.requireNonNull(readyTimeout, "readyTimeout");
    this.ttlSeconds = ttlSeconds;
    this.kept = ttlSeconds > 0 ? new KeptAgents(keptDir, (pid, socket) -> KeptAgents.runs(procRoot, pid, socket)) : null;
  }

  /**
   * This launcher, keeping each agent {@code ttlSeconds} after its session (0: not at all) with
   * its socket, log and entry in {@code keptDir} ({@code agent.ttl}, see {@link KeptAgents}).
   */
  public LocalAgentLauncher keepingAgents(int ttlSeconds, Path keptDir) {
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("ttl " + ttlSeconds);
    }
    return new LocalAgentLauncher(procRoot, isRoot, prefix, readyTimeout, ttlSeconds, keptDir);
  }

  /** The real launcher: /proc, euid check, nsenter, this JVM's java, the configured agent jar. */
  public static LocalAgentLauncher forThisHost(CliEnvironment environment) {
    Path proc = Path.of("/proc");
    return new LocalAgentLauncher(
        proc,
        () -> effectiveUid(proc.resolve("self/status")) == 0,
        pid -> nsenterPrefix(environment, pid),
        DEFAULT_READY_TIMEOUT);
  }

  @Override
  public RunningAgent launch(AgentRequest request) {
    int pid = checkedPid(request.target());
    List<String> agentCommand = prefix.forPid(pid);
    if (kept != null) {
      return launchKept(request, pid, agentCommand);
    }
    List<String> command = new ArrayList<>(agentCommand);
    command.addAll(List.of("--target-pid", Integer.toString(pid)));
    command.addAll(agentArgs(request));
    return start(command, request, "agent pid %d for pid/" + pid, readyTimeout, () -> {});
  }

  @Override
  public Optional<Path> localProcDir(TargetSpec target) {
    return Optional.of(procRoot.resolve(Integer.toString(checkedPid(target))));
  }

  /** The target's pid, once it is known to be a running process this CLI may enter. */
  private int checkedPid(TargetSpec target) {
    if (!(target instanceof TargetSpec.Pid(int pid))) {
      throw new MirrordException(
          ExitCode.NOT_SUPPORTED_HERE,
          "the local agent launcher only serves pid/N targets, not " + target.describe() + "; use --target pid/N");
    }
    if (!Files.isDirectory(procRoot.resolve(Integer.toString(pid)))) {
      throw new MirrordException(
          ExitCode.TARGET_NOT_FOUND,
          "target pid " + pid + " does not exist; pick a running process (ps -e)");
    }
    if (!isRoot.getAsBoolean()) {
      throw new MirrordException(
          ExitCode.NOT_PERMITTED,
          "--target pid/" + pid + " needs root to enter the target's network namespace; run with sudo");
    }
    return pid;
  }

  /**
   * {@code agent.ttl}: the agent kept for this target and these settings if one can take the session,
   * else a new one that stays {@link #ttlSeconds} after each session ({@code --no-stdin --idle-timeout}),
   * listening in the kept-agents directory with a token of its own.
   */
  private RunningAgent launchKept(AgentRequest request, int pid, List<String> agentCommand) {
    String key = KeptAgents.key(pid, KeptAgents.startTime(procRoot, pid), keptIdentity(agentCommand, request, ttlSeconds));
    kept.purge();
    try (java.nio.channels.FileLock lock = kept.lock(key)) {
      Optional<RunningAgent> reused = reuse(kept, key, pid, ttlSeconds);
      if (reused.isPresent()) {
        return reused.get();
      }
      String name = KeptAgents.newName(key);
      Path socket = kept.dir().resolve(name + ".sock");
      Path log = kept.dir().resolve(name + ".log");
      String token = KeptAgents.newToken();
      // a kept agent may serve mirror sessions later: it warms its capture up whatever this session's mode
      AgentRequest own =
          new AgentRequest(
              request.target(), socket, token, log, request.verbose(), request.flushConnections(),
              request.handBackGraceSeconds(), true);
      List<String> command = new ArrayList<>(agentCommand);
      command.addAll(List.of("--target-pid", Integer.toString(pid)));
      command.addAll(agentArgs(own, name));
      command.addAll(
          List.of(
              "--idle-timeout", Integer.toString(ttlSeconds),
              "--no-stdin",
              "--remove-on-exit", kept.entryFile(name).toString()));
      LocalRunningAgent started =
          (LocalRunningAgent) start(command, own, "agent pid %d for pid/" + pid, readyTimeout, () -> {});
      KeptAgents.Entry entry = new KeptAgents.Entry(name, started.pid(), token, socket, log, 0);
      kept.write(entry);
      logger.info("agent pid {} for pid/{} stays {} s after each session for the next mirrord exec (agent.ttl); log {}",
          started.pid(), pid, ttlSeconds, log);
      return new KeptAgent(kept, key, entry, started.describe(), ttlSeconds);
    } catch (java.io.IOException e) {
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "cannot use the kept-agents directory " + kept.dir() + " (" + e.getMessage() + "); fix it, or run with --agent-ttl 0");
    }
  }

  /** What a kept agent was started with: a session that would start another agent does not reuse it. */
  private static String keptIdentity(List<String> agentCommand, AgentRequest request, int ttlSeconds) {
    return String.join("\u0000", agentCommand)
        + "\u0000" + jarStamps(agentCommand)
        + "\u0000ttl=" + ttlSeconds
        + " flush=" + request.flushConnections()
        + " grace=" + request.handBackGraceSeconds()
        + " verbose=" + request.verbose();
  }

  /** The kept agent of {@code key} that can take this session, marked in use; call it under the key's lock. */
  private static Optional<RunningAgent> reuse(KeptAgents kept, String key, int pid, int ttlSeconds) throws IOException {
    Optional<KeptAgents.Entry> reuse = kept.usable(key, ttlSeconds, System.currentTimeMillis());
    if (reuse.isEmpty()) {
      return Optional.empty();
    }
    KeptAgents.Entry e = reuse.get();
    KeptAgents.Entry inUse = new KeptAgents.Entry(e.name(), e.pid(), e.token(), e.socket(), e.log(), 0);
    kept.write(inUse);
    logger.info("reusing agent pid {} for pid/{} (kept {} s after each session; log {})", e.pid(), pid, ttlSeconds, e.log());
    return Optional.of(
        new KeptAgent(kept, key, inUse, "agent pid " + e.pid() + " for pid/" + pid + " (reused)", ttlSeconds));
  }

  /**
   * For {@code aot-train}: what a run that reuses a kept agent does with the kept-agents directory (the key, the
   * lock, the entry found, taken and released), in {@code dir} (a directory of the training's own) with a stand-in
   * entry for {@code pid}, so that the CLI's AOT cache holds that code and a kept-agent run loads none of it from
   * the jar. Nothing is started or stopped.
   *
   * @return whether the stand-in entry was reused and released as a real one would be
   */
  public static boolean rehearseReuse(Path dir, Path procRoot, int pid) throws IOException {
    KeptAgents kept = new KeptAgents(dir, (p, socket) -> true); // the stand-in "runs"
    AgentRequest request =
        new AgentRequest(new TargetSpec.Pid(pid), dir.resolve("agent.sock"), "token", dir.resolve("agent.log"), false, true, 3, true);
    String key = KeptAgents.key(pid, KeptAgents.startTime(procRoot, pid), keptIdentity(List.of("java", "-jar", "agent.jar"), request, 60));
    String name = KeptAgents.newName(key);
    try (java.nio.channels.FileLock lock = kept.lock(key)) {
      Path socket = Files.createFile(dir.resolve(name + ".sock"));
      kept.write(new KeptAgents.Entry(name, pid, KeptAgents.newToken(), socket, dir.resolve(name + ".log"), System.currentTimeMillis()));
    }
    kept.purge();
    Optional<RunningAgent> reused;
    try (java.nio.channels.FileLock lock = kept.lock(key)) {
      reused = reuse(kept, key, pid, 60);
    }
    reused.ifPresent(RunningAgent::close);
    return reused.isPresent() && kept.usable(key, 60, System.currentTimeMillis()).map(e -> e.releasedAtMillis() > 0).orElse(false);
  }

  /** Size and modification time of every jar in the agent's command: a rebuilt jar is another agent. */
  private static String jarStamps(List<String> command) {
    StringBuilder b = new StringBuilder();
    for (String arg : command) {
      if (arg.endsWith(".jar")) {
        try {
          Path jar = Path.of(arg);
          b.append(arg).append('=').append(Files.size(jar)).append('@').append(Files.getLastModifiedTime(jar).toMillis()).append(' ');
        } catch (IOException | RuntimeException e) {
          b.append(arg).append("=? ");
        }
      }
    }
    return b.toString();
  }

  /**
   * The agent's arguments after the target ({@code --target-pid N} or {@code --container-id X}):
   * where it listens (the session's unix socket), its accept timeout, session id, log file and the
   * steal settings.
   */
  public static List<String> agentArgs(AgentRequest request) {
    return agentArgs(request, String.valueOf(request.socketPath().toAbsolutePath().getParent().getFileName()));
  }

  private static List<String> agentArgs(AgentRequest request, String sessionId) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--listen",
                AgentAddress.unix(request.socketPath()),
                "--accept-timeout",
                Integer.toString(ACCEPT_TIMEOUT_SECONDS),
                "--session-id",
                sessionId,
                "--log-file",
                request.logFile().toAbsolutePath().toString()));
    if (!request.flushConnections()) {
      args.add("--no-flush-connections");
    }
    if (request.handBackGraceSeconds() != 3) {
      args.addAll(List.of("--hand-back-grace", Integer.toString(request.handBackGraceSeconds())));
    }
    if (!request.captureWarmUp()) {
      args.add("--no-warm-up");
    }
    if (request.verbose()) {
      args.add("-v");
    }
    return args;
  }

  /**
   * Runs {@code command} (the agent, or what starts it) with stdin a pipe the CLI holds, and waits up
   * to {@code readyTimeout} for its ready line.
   *
   * @param description for logs; {@code %d} becomes the process's pid
   * @param afterStop runs once the process has exited, when the agent is closed or killed
   */
  public static RunningAgent start(
      List<String> command, AgentRequest request, String description, Duration readyTimeout, Runnable afterStop) {
    logger.info("starting agent: {}", String.join(" ", command));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .redirectError(ProcessBuilder.Redirect.PIPE);
    pb.environment().put(TOKEN_ENV, request.token());
    AgentJvmOptions.ENVIRONMENT.forEach(pb.environment()::putIfAbsent);
    Transport.passOn(pb.environment());
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "cannot start the mirrord agent (" + e.getMessage() + "); check the installation (bin/mirrord)");
    }
    Deque<String> stderrTail = new ArrayDeque<>();
    CompletableFuture<String> ready = new CompletableFuture<>();
    pump("mirrord-agent-stdout", process.getInputStream(), line -> onStdout(line, ready));
    Thread err =
        pump(
            "mirrord-agent-stderr",
            process.getErrorStream(),
            line -> {
              logger.info("agent stderr: {}", line);
              synchronized (stderrTail) {
                stderrTail.addLast(line);
                if (stderrTail.size() > STDERR_LINES_KEPT) {
                  stderrTail.removeFirst();
                }
              }
            });
    LocalRunningAgent agent =
        new LocalRunningAgent(process, description.replace("%d", Long.toString(process.pid())), afterStop);
    // until the caller owns the agent, a CLI stopped by a signal must not leave it behind
    Thread hook = new Thread(agent::kill, "mirrord-agent-start-cleanup");
    try {
      Runtime.getRuntime().addShutdownHook(hook);
    } catch (IllegalStateException e) {
      agent.kill();
      throw new MirrordException(ExitCode.AGENT_FAILED, "stopped by a signal while starting the agent; nothing is left running");
    }
    try {
      CompletableFuture.anyOf(ready, process.onExit()).get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
      if (ready.isDone() && !ready.isCompletedExceptionally()) {
        SocketAddress address = AgentAddress.parse(ready.join());
        agent.address = address;
        logger.info("{} ready at {}", agent.describe(), ready.join());
        return agent;
      }
      // stdout closed or the process exited first
      process.waitFor(2, TimeUnit.SECONDS);
      err.join(1000);
      throw exitedEarly(process, tail(stderrTail), request.logFile());
    } catch (TimeoutException e) {
      agent.kill();
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "the mirrord agent did not get ready within "
              + readyTimeout.toSeconds()
              + " s"
              + lastLines(tail(stderrTail), request.logFile())
              + "; see "
              + request.logFile());
    } catch (InterruptedException e) {
      agent.kill();
      Thread.currentThread().interrupt();
      throw new MirrordException(ExitCode.AGENT_FAILED, "interrupted while starting the agent; try again");
    } catch (ExecutionException | IllegalArgumentException e) {
      agent.kill();
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "the mirrord agent announced a bad address (" + e.getMessage() + "); use matching mirrord-cli and pod agent jars");
    } catch (MirrordException e) {
      agent.kill();
      throw e;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down: the hook kills the agent
      }
    }
  }

  private static void onStdout(String line, CompletableFuture<String> ready) {
    if (!ready.isDone() && line.startsWith(READY_PREFIX)) {
      ready.complete(line.substring(READY_PREFIX.length()).strip());
    } else {
      logger.debug("agent stdout: {}", line);
    }
  }

  private static MirrordException exitedEarly(Process process, List<String> stderr, Path logFile) {
    int code = process.isAlive() ? -1 : process.exitValue();
    ExitCode exit =
        switch (code) {
          case 3 -> ExitCode.TARGET_NOT_FOUND;
          case 4 -> ExitCode.NOT_PERMITTED;
          default -> ExitCode.AGENT_FAILED;
        };
    String what =
        process.isAlive()
            ? "the mirrord agent closed its stdout before it was ready"
            : "the mirrord agent exited with code " + code + " before it was ready";
    return new MirrordException(exit, what + lastLines(stderr, logFile) + "; see " + logFile);
  }

  /** {@code " (line | line)"} from the agent's stderr, else from its log file, else "". */
  private static String lastLines(List<String> stderr, Path logFile) {
    List<String> lines = stderr;
    if (lines.isEmpty()) {
      try {
        List<String> all = Files.exists(logFile) ? Files.readAllLines(logFile) : List.of();
        lines = all.subList(Math.max(0, all.size() - 3), all.size());
      } catch (IOException | RuntimeException e) {
        lines = List.of();
      }
    }
    lines = lines.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (lines.isEmpty()) {
      return "";
    }
    List<String> last = lines.subList(Math.max(0, lines.size() - 3), lines.size());
    return " (" + String.join(" | ", last) + ")";
  }

  private static List<String> tail(Deque<String> lines) {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  private static Thread pump(String name, InputStream in, java.util.function.Consumer<String> onLine) {
    Thread t =
        Thread.ofPlatform()
            .name(name)
            .daemon(true)
            .start(
                () -> {
                  try (BufferedReader r =
                      new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                      onLine.accept(line);
                    }
                  } catch (IOException e) {
                    logger.debug("{} closed: {}", name, e.toString());
                  }
                });
    return t;
  }

  /**
   * {@code [setsid] nsenter --net=/proc/N/ns/net --setgid=71 -- <java> -jar <agent jar>}.
   *
   * @throws MirrordException INSTALLATION if nsenter or the agent jar is missing
   */
  /** The agent's group id (as mirrord's agent), which its iptables OUTPUT rules exempt. */
  static final int AGENT_GID = 71;

  static List<String> nsenterPrefix(CliEnvironment environment, int pid) {
    String path = environment.env().getOrDefault("PATH", "");
    Path nsenter = which("nsenter", path);
    if (nsenter == null) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "nsenter is not installed (needed to enter the target's network namespace); install it: apt-get install util-linux");
    }
    String jar = environment.propertyOrEnv("mirrord.agent.jar", "MIRRORD_AGENT_JAR");
    if (jar == null) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "the mirrord pod agent jar is not configured; run mirrord through bin/mirrord or set MIRRORD_AGENT_JAR=<path to mirrord-pod-agent.jar>");
    }
    if (!Files.isRegularFile(Path.of(jar))) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "the mirrord pod agent jar " + jar + " does not exist; build it (mvn -pl mirrord-pod-agent package) or fix MIRRORD_AGENT_JAR");
    }
    List<String> cmd = new ArrayList<>();
    Path setsid = which("setsid", path);
    if (setsid != null) {
      cmd.add(setsid.toString());
    }
    cmd.addAll(
        List.of(
            nsenter.toString(),
            "--net=/proc/" + pid + "/ns/net",
            // A group of its own: steal rules in OUTPUT skip the agent's own connections by it.
            "--setgid=" + AGENT_GID,
            "--"));
    cmd.addAll(agentJava(environment, Path.of(jar)));
    return cmd;
  }

  /**
   * {@code <java> <the agent jar's JVM options> [<its AOT cache>] -cp <agent jar> <its main class>}:
   * the agent's JVM, this JVM's {@code java}. The options and the main class come from the jar
   * ({@link AgentJvmOptions#launchFromJar}), the cache from {@link AotCache} when one was built for
   * this jar and JDK ({@code bin/mirrord} builds it).
   */
  public static List<String> agentJava(CliEnvironment environment, Path jar) {
    AgentJvmOptions.Launch launch;
    try {
      launch = AgentJvmOptions.launchFromJar(jar);
    } catch (IOException | RuntimeException e) {
      logger.warn("cannot read the JVM options in {} ({}); the agent starts with the JVM's defaults", jar, e.toString());
      launch = new AgentJvmOptions.Launch(List.of(), null);
    }
    return launch.command(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        AotCache.useFlags(agentAotCache(environment, jar)), jar);
  }

  /** Where the agent jar's AOT cache is (it may not exist); null if caches are off. */
  public static Path agentAotCache(CliEnvironment environment, Path jar) {
    Path root = AotCache.root(environment.env()::get);
    if (root == null) {
      return null;
    }
    try {
      return AotCache.file(
          root, jar, Path.of(System.getProperty("java.home")), System.getProperty("java.runtime.version"));
    } catch (IOException | RuntimeException e) {
      logger.debug("no AOT cache for {}: {}", jar, e.toString());
      return null;
    }
  }

  /** An executable named {@code name} on {@code path} or in the sbin/bin dirs, else null. */
  public static Path which(String name, String path) {
    List<String> dirs = new ArrayList<>(List.of(path.split(":")));
    dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
    for (String d : dirs) {
      if (d.isBlank()) {
        continue;
      }
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** The effective uid from a {@code /proc/<pid>/status} file ({@code Uid: real eff saved fs}). */
  public static int effectiveUid(Path status) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("Uid:")) {
          String[] f = line.substring(4).trim().split("\\s+");
          return Integer.parseInt(f.length > 1 ? f[1] : f[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot read {}: {}", status, e.toString());
    }
    return -1;
  }

  /**
   * An agent kept between sessions: {@link #close()} leaves it running (its session ends with the
   * CLI's connection, and the agent removes that session's steal rules then) and notes when, so the
   * next session knows how much of the TTL is left.
   */
  private static final class KeptAgent implements RunningAgent {
    private final KeptAgents kept;
    private final String key;
    private final KeptAgents.Entry entry;
    private final String description;
    private final int ttlSeconds;
    private boolean closed;

    KeptAgent(KeptAgents kept, String key, KeptAgents.Entry entry, String description, int ttlSeconds) {
      this.kept = kept;
      this.key = key;
      this.entry = entry;
      this.description = description;
      this.ttlSeconds = ttlSeconds;
    }

    @Override
    public SocketAddress address() {
      return java.net.UnixDomainSocketAddress.of(entry.socket());
    }

    @Override
    public String describe() {
      return description;
    }

    @Override
    public String token() {
      return entry.token();
    }

    @Override
    public String logHint() {
      return entry.log().toString();
    }

    /** It did not take the session: forgotten (and stopped), so the next run starts a new one. */
    @Override
    public MirrordException explain(MirrordException failure) {
      kept.forget(entry.name());
      ProcessHandle.of(entry.pid()).ifPresent(ProcessHandle::destroy);
      return new MirrordException(
          failure.exitCode(),
          failure.getMessage() + "; the kept agent pid " + entry.pid() + " is stopped: run again to start a new one",
          failure);
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      kept.released(key, entry, System.currentTimeMillis());
      logger.info("{} stays up to {} s for the next mirrord exec against this target", description, ttlSeconds);
    }
  }

  /** The agent process; stdin held open until {@link #close()}. */
  private static final class LocalRunningAgent implements RunningAgent {
    private final Process process;
    private final String description;
    private final OutputStream stdin;
    private final Runnable afterStop;
    private volatile SocketAddress address;
    private boolean closed;

    LocalRunningAgent(Process process, String description, Runnable afterStop) {
      this.process = process;
      this.description = description;
      this.stdin = process.getOutputStream();
      this.afterStop = afterStop;
    }

    @Override
    public SocketAddress address() {
      return address;
    }

    @Override
    public String describe() {
      return description;
    }

    long pid() {
      return process.pid();
    }

    /** Closes stdin (the agent's signal to exit), then TERM, then KILL. */
    @Override
    public void close() {
      stop(5);
    }

    /** A failed start: no time for a clean exit. */
    void kill() {
      stop(0);
    }

    private synchronized void stop(int stdinGraceSeconds) {
      if (closed) {
        return;
      }
      closed = true;
      try {
        stdin.close();
      } catch (IOException e) {
        // already gone
      }
      try {
        if (!process.waitFor(stdinGraceSeconds, TimeUnit.SECONDS)) {
          if (stdinGraceSeconds > 0) {
            logger.warn("{} did not exit after stdin EOF; sending SIGTERM", description);
          }
          process.destroy();
          if (!process.waitFor(2, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(2, TimeUnit.SECONDS);
          }
        }
        logger.info("{} exited with {}", description, process.isAlive() ? "?" : process.exitValue());
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      afterStop.run();
    }
  }
}
