package dev.mirrord.jvm.podagent;

import dev.mirrord.jvm.podagent.dns.DnsWorker;
import dev.mirrord.jvm.podagent.incoming.IncomingTasks;
import dev.mirrord.jvm.podagent.env.TargetEnv;
import dev.mirrord.jvm.podagent.session.SessionContext;
import dev.mirrord.jvm.podagent.target.AgentNetns;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.picocli.OptionSpecs;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code mirrord-agent (--target-pid N | --container-id RUNTIME://ID) --listen unix:/path
 * [--token T] [--accept-timeout S] [--idle-timeout S] [--no-stdin] [--log-file F] [-v]}.
 *
 * <p>Checks that the target exists (else exit 3) and that its environ is readable (else exit 4),
 * starts {@link AgentServer}, prints {@code MIRRORD_AGENT_READY <address>} as the only line on
 * stdout, then serves until {@link AgentLifecycle} says to exit. Every failure is one line on
 * stderr starting with {@code mirrord-agent:}, never a stack trace.
 *
 * <p>The token should come from the environment ({@value #TOKEN_ENV}): a command line is visible to
 * every user through {@code /proc/N/cmdline}. {@code --token} wins when both are given.
 */
public final class PodAgentCommand implements Callable<Integer> {
  private static final Logger logger = LoggerFactory.getLogger(PodAgentCommand.class);

  /** Environment variable with the session token. */
  public static final String TOKEN_ENV = "MIRRORD_AGENT_TOKEN";

  /** The stdout line announcing the agent listens; followed by a space and the address. */
  public static final String READY_PREFIX = "MIRRORD_AGENT_READY";

  // The options, set by bind() from the parsed model (see model()).
  int targetPid;
  String containerId;
  boolean noStdin;
  List<Path> removeOnExit = new ArrayList<>();
  int idleTimeoutSeconds;
  ListenAddress listen;
  String token;
  int acceptTimeoutSeconds;
  boolean noFlushConnections;
  int handBackGraceSeconds;
  boolean noCaptureWarmUp;
  String sessionId;
  Path logFile;
  boolean verbose;

  /** This command's model, set by {@link #model}. */
  private CommandSpec spec;

  private final Function<String, String> env;
  private final InputStream stdin;
  private final Path procRoot;

  public PodAgentCommand() {
    this(System::getenv, System.in);
  }

  /** For tests: a fake environment and stdin. */
  PodAgentCommand(Function<String, String> env, InputStream stdin) {
    this(env, stdin, Path.of("/proc"));
  }

  /** For tests: a fake environment, stdin and {@code /proc} (for {@code --container-id}). */
  PodAgentCommand(Function<String, String> env, InputStream stdin, Path procRoot) {
    this.env = env;
    this.stdin = stdin;
    this.procRoot = procRoot;
  }

  /** The command line used by {@link PodAgentMain}: usage errors are one line, no help dump. */
  public static CommandLine newCommandLine() {
    return commandLine(new PodAgentCommand());
  }

  /** The command line of {@code command}, with {@link PodAgentMain}'s error handling. */
  static CommandLine commandLine(PodAgentCommand command) {
    return configure(new CommandLine(model(command)));
  }

  /**
   * The agent's command model, built through picocli's programmatic API rather than read from
   * annotations: reading them made a proxy class per annotation type at run time (no AOT cache
   * holds those) and ran picocli's reflection, interpreted, on every agent start: 73-94 ms of it
   * against 16-21 ms for this model (a bare JVM on the agent's AOT cache; see {@link OptionSpecs}).
   * The values reach the fields in {@link #bind}; {@code PodAgentCommandTest} pins the help text.
   */
  static CommandSpec model(PodAgentCommand command) {
    CommandSpec spec =
        OptionSpecs.command(
            command,
            "mirrord-agent",
            new Version(),
            "The mirrord pod agent: serves one mirrord CLI from inside the target's network namespace."
                + " Start it under nsenter --net=/proc/N/ns/net, with stdin a pipe the CLI holds.");
    spec.usageMessage()
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(
            exitCodes(
                "0", "normal exit (stdin closed, the CLI disconnected, accept or idle timeout)",
                "1", "unexpected failure (e.g. cannot listen)",
                "2", "bad usage",
                "3", "target pid (or container) does not exist",
                "4", "not permitted to inspect the target (run as root)"));
    spec.addOption(
        OptionSpecs.option("--target-pid", "PID", int.class, "pid of the target process (as seen by the agent)"));
    spec.addOption(
        OptionSpecs.option(
            "--container-id",
            "ID",
            String.class,
            "instead of --target-pid: the target container's ID as Kubernetes reports it"
                + " (containerd://…, cri-o://…, docker://…); the agent finds its PID through"
                + " /proc/*/cgroup (needs hostPID) and re-runs itself with --target-pid under"
                + " nsenter --net=/proc/PID/ns/net"));
    spec.addOption(
        OptionSpecs.flag(
            "stdin is not a liveness pipe (in a pod it is closed or absent): do not exit on its EOF",
            "--no-stdin"));
    spec.addOption(
        OptionSpecs.list(
            "FILE",
            Path.class,
            null,
            "delete FILE when the agent exits (repeatable): the CLI's record of an agent kept between sessions",
            "--remove-on-exit"));
    spec.addOption(
        OptionSpecs.option(
            "--idle-timeout",
            "SECONDS",
            int.class,
            "exit when no client has been connected for this long; 0: exit as soon as the first"
                + " client (the CLI) disconnects (default: ${DEFAULT-VALUE})",
            "0"));
    spec.addOption(
        OptionSpec.builder("--listen")
            .paramLabel("ADDRESS")
            .type(ListenAddress.class)
            .converters(new ListenAddress.Converter())
            .defaultValue("tcp:127.0.0.1:0")
            .description("unix:/path/agent.sock or tcp:HOST:PORT (default: ${DEFAULT-VALUE})")
            .build());
    spec.addOption(
        OptionSpecs.option(
            "--token",
            "TOKEN",
            String.class,
            "session token clients must present; prefer the " + TOKEN_ENV + " environment variable"));
    spec.addOption(
        OptionSpecs.option(
            "--accept-timeout",
            "SECONDS",
            int.class,
            "exit if no client authenticates within this time; 0 waits forever"
                + " (default: ${DEFAULT-VALUE})",
            "30"));
    spec.addOption(
        OptionSpecs.flag(
            "steal mode: leave connections established before the steal on the target's server"
                + " (default: they are flushed so keep-alive clients reconnect into the steal)",
            "--no-flush-connections"));
    spec.addOption(
        OptionSpecs.option(
            "--hand-back-grace",
            "SECONDS",
            int.class,
            "steal mode: after a port is handed back, connections in flight may finish within this"
                + " time (default: ${DEFAULT-VALUE})",
            "3"));
    spec.addOption(
        OptionSpecs.flag(
            "do not link the packet capture's code when the CLI connects: its session does not mirror"
                + " (a mirror subscription then links it itself)",
            "--no-warm-up"));
    spec.addOption(
        OptionSpecs.option(
            "--session-id",
            "ID",
            String.class,
            "the CLI's session id, for naming this agent's iptables chains"));
    spec.addOption(
        OptionSpecs.option("--log-file", "FILE", Path.class, "log here (INFO) instead of stderr (WARN)"));
    spec.addOption(OptionSpecs.flag("log at DEBUG", "-v", "--verbose"));
    command.spec = spec;
    return spec;
  }

  private static Map<String, String> exitCodes(String... codesAndMeanings) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < codesAndMeanings.length; i += 2) {
      m.put(codesAndMeanings[i], codesAndMeanings[i + 1]);
    }
    return m;
  }

  /** The parsed options into the fields (defaults included: picocli applied them to the model). */
  void bind() {
    targetPid = value("--target-pid", 0);
    containerId = value("--container-id", null);
    noStdin = value("--no-stdin", false);
    removeOnExit = value("--remove-on-exit", new ArrayList<>());
    idleTimeoutSeconds = value("--idle-timeout", 0);
    listen = value("--listen", null);
    token = value("--token", null);
    acceptTimeoutSeconds = value("--accept-timeout", 30);
    noFlushConnections = value("--no-flush-connections", false);
    handBackGraceSeconds = value("--hand-back-grace", 3);
    noCaptureWarmUp = value("--no-warm-up", false);
    sessionId = value("--session-id", null);
    logFile = value("--log-file", null);
    verbose = value("--verbose", false);
  }

  private <T> T value(String option, T absent) {
    return OptionSpecs.value(spec, option, absent);
  }

  static CommandLine configure(CommandLine cl) {
    return cl.setParameterExceptionHandler(
            (ex, args) -> {
              ex.getCommandLine()
                  .getErr()
                  .println("mirrord-agent: " + ex.getMessage() + " (see --help)");
              ex.getCommandLine().getErr().flush();
              return ex.getCommandLine().getCommandSpec().exitCodeOnInvalidInput();
            })
        .setExecutionExceptionHandler(
            (ex, cmd, parseResult) -> {
              cmd.getErr().println("mirrord-agent: unexpected failure: " + ex);
              cmd.getErr().flush();
              logger.error("unexpected failure", ex);
              return ExitCodes.FAILURE;
            });
  }

  @Override
  public Integer call() {
    bind();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return run();
    } catch (AgentException e) {
      err.println("mirrord-agent: " + e.getMessage());
      err.flush();
      if (logFile != null) {
        // Without a log file the logs go to stderr, where the line above already is.
        logger.error("{}", e.getMessage());
      }
      return e.exitCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.FAILURE;
    }
  }

  private int run() throws AgentException, InterruptedException {
    String sessionToken = resolveToken();
    if (acceptTimeoutSeconds < 0) {
      throw new AgentException(ExitCodes.USAGE, "--accept-timeout must be 0 or more");
    }
    if (idleTimeoutSeconds < 0) {
      throw new AgentException(ExitCodes.USAGE, "--idle-timeout must be 0 or more");
    }
    if (containerId != null && targetPid != 0) {
      throw new AgentException(ExitCodes.USAGE, "give --target-pid or --container-id, not both");
    }
    if (containerId != null) {
      return NetnsReexec.run(
          containerId, spec.commandLine().getParseResult().originalArgs(), procRoot);
    }
    if (targetPid <= 0) {
      throw new AgentException(
          ExitCodes.USAGE, "--target-pid must be a positive pid (or give --container-id)");
    }
    LogSetup.configure(logFile, verbose);
    String refusedCache = dev.mirrord.jvm.protocol.jvm.AotCache.refusedByThisJvm();
    if (refusedCache != null) {
      logger.warn("{}", refusedCache);
    } else {
      java.nio.file.Path verified = dev.mirrord.jvm.protocol.jvm.AotCache.recordVerified();
      if (verified != null) {
        logger.debug("AOT cache checked whole; later starts skip the check: {}", verified);
      }
    }
    TargetProcess target = checkTarget(TargetProcess.of(targetPid));
    logger.info(
        "mirrord agent {} (protocol {}) for target pid {}, serving from netns {}",
        Version.agentVersion(),
        ProtocolVersion.CURRENT,
        targetPid,
        netnsDescription());

    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.installShutdownHook();
    try {
      ExecutorService blockingWork =
          Executors.newFixedThreadPool(
              2, Thread.ofPlatform().daemon().name("mirrord-agent-blocking-", 0).factory());
      lifecycle.onCleanup(
          "stop blocking executor",
          () -> {
            blockingWork.shutdownNow();
            awaitQuietly(blockingWork);
          });
      if (handBackGraceSeconds < 0) {
        throw new AgentException(ExitCodes.USAGE, "--hand-back-grace must be 0 or more");
      }
      IncomingTasks incoming =
          new IncomingTasks(
              sessionId != null ? sessionId : Long.toHexString(System.nanoTime()),
              new IncomingTasks.StealSettings(
                  !noFlushConnections, Duration.ofSeconds(handBackGraceSeconds), ownGid()),
              !noCaptureWarmUp);
      DnsWorker dns = new DnsWorker(target);
      lifecycle.onCleanup("stop the resolver", dns::close);
      SessionContext context =
          new SessionContext(
              sessionToken, Version.agentVersion(), target, blockingWork, lifecycle, incoming, dns);
      AgentServer server = AgentServer.start(listen, context);
      lifecycle.onCleanup("close server on " + server.boundAddress(), server::close);
      // Registered after the server, so it runs before it: the rules go first on every exit path.
      lifecycle.onCleanup("remove steal rules, stop capture", incoming::close);
      // Last registered, first run: no CLI picks this agent for a session once it is leaving.
      for (Path file : removeOnExit) {
        lifecycle.onCleanup("remove " + file, () -> {
          try {
            java.nio.file.Files.deleteIfExists(file);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
      }

      PrintWriter out = spec.commandLine().getOut();
      out.println(READY_PREFIX + " " + server.boundAddress());
      out.flush();

      if (!noStdin) {
        lifecycle.watchStdin(stdin);
      }
      lifecycle.setIdleTimeout(Duration.ofSeconds(idleTimeoutSeconds));
      if (idleTimeoutSeconds > 0) {
        // the JDK polls a process that is not our child: from 0.3 s apart, growing to at most 5 s (not this very
        // process, which tests target, and whose onExit the JDK refuses)
        ProcessHandle.of(target.pid()).filter(h -> !h.equals(ProcessHandle.current())).ifPresent(
            h -> lifecycle.exitWhenTargetExits(h.onExit(), "the target (pid " + target.pid() + ")"));
      }
      lifecycle.startAcceptTimer(Duration.ofSeconds(acceptTimeoutSeconds));
      String reason = lifecycle.awaitExit();
      logger.debug("exit requested: {}", reason);
      return ExitCodes.OK;
    } finally {
      lifecycle.cleanUp();
    }
  }

  /** This process's real group id (from /proc/self/status), or 0 if unknown. */
  static int ownGid() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("Gid:")) {
          return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      logger.debug("cannot read own gid: {}", e.toString());
    }
    return 0;
  }

  private String resolveToken() throws AgentException {
    String t = token != null ? token : env.apply(TOKEN_ENV);
    if (t == null || t.isEmpty()) {
      throw new AgentException(
          ExitCodes.USAGE, "no session token: set " + TOKEN_ENV + " (preferred) or pass --token");
    }
    return t;
  }

  /** Exit 3 when the pid is gone, 4 when we may not read its environ. */
  static TargetProcess checkTarget(TargetProcess target) throws AgentException {
    if (!target.exists()) {
      throw new AgentException(
          ExitCodes.TARGET_NOT_FOUND, "target pid " + target.pid() + " does not exist");
    }
    RemoteResult<Map<String, String>> env = TargetEnv.read(target);
    if (env instanceof RemoteResult.Err<Map<String, String>> e) {
      String where = "cannot read " + target.environ() + " of target pid " + target.pid();
      if (e.error() instanceof ResponseError.NotFound) {
        throw new AgentException(
            ExitCodes.TARGET_NOT_FOUND,
            where + ": it exited or is a kernel thread; target a running user process");
      }
      String why =
          e.error() instanceof ResponseError.Forbidden ? "permission denied" : e.error().describe();
      throw new AgentException(
          ExitCodes.NOT_PERMITTED, where + " (" + why + "); run the agent as root");
    }
    return target;
  }

  private static String netnsDescription() {
    try {
      return "net:[" + AgentNetns.inode() + "]";
    } catch (Exception e) {
      return "unknown (" + e + ")";
    }
  }

  private static void awaitQuietly(ExecutorService executor) {
    try {
      executor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code --version}, and the agent version in {@code HelloOk}. */
  static final class Version implements CommandLine.IVersionProvider {
    static String agentVersion() {
      return Objects.requireNonNullElse(
          PodAgentCommand.class.getPackage().getImplementationVersion(), "dev");
    }

    @Override
    public String[] getVersion() {
      return new String[] {
        "mirrord-agent " + agentVersion() + " (protocol " + ProtocolVersion.CURRENT + ")"
      };
    }
  }
}
