package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.AgentRequest;
import dev.mirrord.jvm.cli.launch.RunningAgent;
import dev.mirrord.jvm.cli.proxy.SessionProxy;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.codec.CodecWarmUp;
import dev.mirrord.jvm.protocol.target.TargetFiles;
import dev.mirrord.jvm.protocol.jvm.AotCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One mirrord session, in order: session dir → agent → session proxy + handshake → target info and
 * environment import → session file → the {@link Workload} ({@code exec}: the user's command and
 * its wait; {@code session}: the environment for JVMs started elsewhere, then a wait for Ctrl-C) →
 * clean-up (what the workload registered, e.g. the child tree; proxy, agent, session dir), also from
 * a shutdown hook if the CLI is stopped some other way.
 *
 * <p>For a target on this host ({@link AgentLauncher#localProcDir}) and a workload that allows it
 * ({@code exec}), the agent starts on a thread of its own instead, while the CLI reads the target's
 * environment and resolver files from {@code /proc/N} and starts the command: the layers' handshakes
 * wait for the agent's ({@link SessionProxy#holdLayersUntilAgent}), so no hook runs before the agent
 * is there, and a failed agent start rejects them, stops the command and is the session's error.
 */
public final class ExecSession {
  private static final Logger logger = LoggerFactory.getLogger(ExecSession.class);

  static final Duration AGENT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration CHILD_GRACE = Duration.ofSeconds(5);

  /**
   * How long a layer's handshake may wait when the command starts beside the agent: as long as the
   * CLI waits for a local agent's READY line and then for its handshake.
   */
  public static final Duration LAYER_WAITS_FOR_AGENT =
      dev.mirrord.jvm.cli.launch.LocalAgentLauncher.DEFAULT_READY_TIMEOUT.plus(AGENT_TIMEOUT);

  /**
   * What the command resolved before anything is started; {@code warnings} are shown right before
   * the workload starts (once the agent is up, unless the workload starts beside it).
   */
  public record Params(
      CliEnvironment environment,
      MirrordConfig config,
      TargetSpec target,
      AgentLauncher launcher,
      Path layerJar,
      String sessionId,
      Path logFile,
      UserNotices notices,
      List<String> warnings) {
    public Params {
      Objects.requireNonNull(environment, "environment");
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(launcher, "launcher");
      Objects.requireNonNull(layerJar, "layerJar");
      Objects.requireNonNull(sessionId, "sessionId");
      Objects.requireNonNull(logFile, "logFile");
      Objects.requireNonNull(notices, "notices");
      warnings = List.copyOf(warnings);
    }
  }

  /** What runs once the session is up; its result is the command's exit code. */
  @FunctionalInterface
  public interface Workload {
    int run(Ready session) throws InterruptedException;

    /**
     * Whether it may start while the agent starts, for a target whose environment and resolver
     * files the CLI reads itself ({@link AgentLauncher#localProcDir}): its JVMs' layers then wait for
     * the agent in their handshake.
     */
    default boolean mayStartBeforeAgent() {
      return false;
    }
  }

  /**
   * A workload's resource that ends in its own way when the session's agent never came up (see {@link
   * #abortWorkload}); at a normal clean-up it is closed.
   */
  public interface Abortable extends AutoCloseable {
    /** The agent did not start: ends what the workload started. Never throws. */
    void abortBeforeAgent();
  }

  /**
   * The session, up: the session file JVMs load the layer with, the target's environment (already
   * filtered), and what the workload may need to watch or clean up.
   */
  public interface Ready {
    String sessionId();

    /** The Properties file the layer reads ({@code -javaagent:<layer jar>=<this file>}). */
    Path sessionFile();

    /** The target's environment variables the app gets (filtered by {@code env.*}). */
    Map<String, String> importedEnv();

    /** Completes when the connection to the agent is lost (not when the session closes it). */
    CompletableFuture<Void> agentGone();

    /** Closed first at clean-up (before the proxy and the agent), also from the shutdown hook. */
    void closeOnCleanUp(AutoCloseable resource);
  }

  private final Params p;
  /** How long a second clean-up (the shutdown hook during the main path's, or the other way round) waits for the first. */
  static final Duration CLEAN_UP_WAIT = Duration.ofSeconds(30);

  private final CleanUpOnce cleanUp = new CleanUpOnce(this::cleanUpOnce, CLEAN_UP_WAIT);
  private final List<AutoCloseable> workloadResources = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile SessionDir dir;
  private volatile RunningAgent agent;
  private volatile SessionProxy proxy;
  private volatile CompletableFuture<SessionProxy> proxyStart;
  /** The agent's start beside the command's (a local target), or null: started before it. */
  private volatile CompletableFuture<Void> agentStart;
  /** Guards {@link #agent} against the agent-start thread: once the clean-up has begun, a late agent is closed at once. */
  private final Object agentLock = new Object();
  private boolean cleaningUp;
  private boolean workloadAborted;

  private ExecSession(Params params) {
    this.p = params;
  }

  /** Runs the session and {@code workload} in it; returns the workload's exit code. */
  public static int run(Params params, Workload workload) throws InterruptedException {
    return new ExecSession(params).run(workload);
  }

  /**
   * {@code mirrord exec}'s workload: {@code command} with the layer and the target's environment;
   * SIGINT/SIGTERM are forwarded to it; its exit code is the result.
   */
  public static Workload command(List<String> command, CliEnvironment environment, Path layerJar) {
    List<String> cmd = List.copyOf(command);
    return new Workload() {
      @Override
      public int run(Ready ready) throws InterruptedException {
        JvmLauncher.LaunchPlan plan =
            JvmLauncher.plan(cmd, environment.env(), ready.importedEnv(), layerJar, ready.sessionFile());
        ChildProcess child = ChildProcess.start(plan, CHILD_GRACE);
        ready.closeOnCleanUp(child);
        return child.waitFor(environment.forwardSignals());
      }

      /**
       * A JVM (or what looks like one) only: its layer waits for the agent in its handshake. Anything else would
       * run without waiting, so it runs once the agent is up, as it always did, and a failed agent never ran it.
       */
      @Override
      public boolean mayStartBeforeAgent() {
        return JvmLauncher.looksLikeJvm(cmd);
      }
    };
  }

  private int run(Workload workload) throws InterruptedException {
    Thread hook = new Thread(this::cleanUp, "mirrord-cleanup");
    try {
      Runtime.getRuntime().addShutdownHook(hook);
    } catch (IllegalStateException e) {
      throw new MirrordException(ExitCode.AGENT_FAILED, "stopped by a signal before the session started; nothing is left running");
    }
    try {
      dir = SessionDir.create(p.environment().tmpDir(), p.sessionId());
      logger.info("session {} in {}, log {}", p.sessionId(), dir.dir(), p.logFile());
      // The session proxy (Netty, the codec) starts while the agent's JVM does: neither needs the other.
      CodecWarmUp.startInBackground();
      proxyStart = startProxy();
      java.util.Optional<Path> localProc =
          workload.mayStartBeforeAgent() ? p.launcher().localProcDir(p.target()) : java.util.Optional.empty();
      Map<String, String> imported;
      TargetResolverFiles resolverFiles;
      if (localProc.isPresent()) {
        // A target on this host: its environment and resolver files are read here, and the command starts while
        // the agent does; the layers' handshakes wait for the agent's (SessionProxy.holdLayersUntilAgent).
        agentStart = startAgentBeside();
        Path proc = localProc.get();
        imported =
            Boolean.TRUE.equals(p.config().env().importEnv())
                ? importEnv(TargetFiles.environ(proc.resolve("environ"), pidOf(proc)))
                : importEnv(null);
        resolverFiles =
            p.config().dns().remote()
                ? resolverFiles(TargetFiles.resolverFiles(0, proc.resolve("root")))
                : TargetResolverFiles.none();
        proxy = awaitProxy(proxyStart); // it started meanwhile
        proxy.endAppOnAgentLoss(p.config().layerOrDefault().exits());
        proxy.holdLayersUntilAgent();
      } else {
        agent = p.launcher().launch(agentRequest());
        proxy = awaitProxy(proxyStart);
        proxy.endAppOnAgentLoss(p.config().layerOrDefault().exits());
        Session.HelloOk agentHello = helloAgent(proxy, agent);
        // both questions leave at once: one round trip to the agent instead of two
        CompletableFuture<Target.TargetInfo> infoAsked =
            proxy.request(new Target.TargetInfoRequest(0), Target.TargetInfo.class);
        CompletableFuture<Target.EnvResponse> envAsked =
            Boolean.TRUE.equals(p.config().env().importEnv())
                ? proxy.request(new Target.EnvRequest(0), Target.EnvResponse.class)
                : null;
        logTargetInfo(await(infoAsked, "target info"));
        imported = importEnv(envAsked == null ? null : await(envAsked, "the target's environment").env());
        resolverFiles = resolverFiles(agentHello.negotiated());
      }

      Properties session =
          JvmLauncher.sessionProperties(
              p.sessionId(), proxy.port(), dir.token(), siblingLog("layer"), p.config());
      session.putAll(resolverFiles.sessionProperties());
      if (agentStart != null) {
        // the layers' handshakes wait for the agent's start: as long as the CLI would wait for it
        session.setProperty("handshake.timeout.ms", Long.toString(LAYER_WAITS_FOR_AGENT.toMillis()));
      }
      proxy.relayAddresses().addTo(session);
      Path cacheRoot = AotCache.root(p.environment().env()::get);
      if (cacheRoot != null) {
        session.setProperty("hook.cache.dir", cacheRoot.toAbsolutePath().toString());
      }
      dir.writeSessionFile(session);
      p.warnings().forEach(p.notices()::warn);
      if (agentStart != null && agentStart.isCompletedExceptionally()) {
        awaitAgentStart(); // it failed before the command started: its error, and no command
      }
      SessionProxy up = proxy;
      SessionDir sessionDir = dir;
      sweepStaleSessionDirs(sessionDir);
      int code = workload.run(
          new Ready() {
            @Override
            public String sessionId() {
              return p.sessionId();
            }

            @Override
            public Path sessionFile() {
              return sessionDir.sessionFile();
            }

            @Override
            public Map<String, String> importedEnv() {
              return imported;
            }

            @Override
            public CompletableFuture<Void> agentGone() {
              return up.agentGone();
            }

            @Override
            public void closeOnCleanUp(AutoCloseable resource) {
              keepForCleanUp(resource);
            }
          });
      if (agentStart != null) {
        awaitAgentStart(); // the command may have ended before the agent was up: a failed start is still an error
      }
      return code;
    } finally {
      cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down; the hook runs cleanUp, which is idempotent
      }
    }
  }

  private AgentRequest agentRequest() {
    return new AgentRequest(
        p.target(),
        dir.agentSocket(),
        dir.token(),
        siblingLog("agent"),
        p.config().isVerbose(),
        p.config().incoming().flushes(),
        p.config().incoming().graceSeconds(),
        p.config().incoming().mirrors());
  }

  /** The CLI's handshake with {@code started}, on the proxy. */
  private Session.HelloOk helloAgent(SessionProxy px, RunningAgent started) throws InterruptedException {
    try {
      String agentToken = started.token() != null ? started.token() : dir.token();
      return await(px.connectAgent(started.address(), agentToken), "the agent handshake");
    } catch (MirrordException e) {
      // the transport may know better (e.g. a port-forward the API server refused)
      throw started.explain(e);
    }
  }

  private void logTargetInfo(Target.TargetInfo info) {
    logger.info(
        "target {}: pid {} netns {} hostname {} addresses {}",
        p.target().describe(),
        info.pid(),
        info.netnsInode(),
        info.hostname(),
        info.addresses());
  }

  /**
   * The agent's start, its handshake and the target's info, on a thread of their own while the
   * command starts. A failure rejects the layers waiting in their handshake and stops the command;
   * {@link #awaitAgentStart} then reports it.
   */
  private CompletableFuture<Void> startAgentBeside() {
    CompletableFuture<Void> up = onDaemonThread("mirrord-agent-start", this::startAgent);
    up.whenComplete(
        (ok, failure) -> {
          if (failure != null) {
            // the command's processes first, so that a JVM waiting in its handshake ends without a line of its
            // own; a layer still waiting after that (nothing of the command should be) is refused with the reason
            abortWorkload();
            proxyStart.thenAccept(px -> px.agentFailed(failure));
          }
        });
    return up;
  }

  private Void startAgent() throws InterruptedException {
    RunningAgent started = p.launcher().launch(agentRequest());
    synchronized (agentLock) {
      if (cleaningUp) {
        started.close(); // the session ended while the agent started
        return null;
      }
      agent = started;
    }
    SessionProxy px = awaitProxy(proxyStart);
    helloAgent(px, started);
    logTargetInfo(await(px.request(new Target.TargetInfoRequest(0), Target.TargetInfo.class), "target info"));
    return null;
  }

  /** Returns once the agent's start beside the command has ended; throws its failure. */
  private void awaitAgentStart() throws InterruptedException {
    try {
      agentStart.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof MirrordException m) {
        throw m;
      }
      throw new MirrordException(
          ExitCode.AGENT_FAILED, "the mirrord agent did not start (" + e.getCause() + "); see " + agentLog(), e.getCause());
    }
  }

  private void keepForCleanUp(AutoCloseable resource) {
    boolean now;
    synchronized (agentLock) {
      workloadResources.add(resource);
      now = workloadAborted;
    }
    if (now) {
      abort(resource);
    }
  }

  /** The agent did not start: what the command started is stopped (its layers were refused anyway). */
  private void abortWorkload() {
    List<AutoCloseable> started;
    synchronized (agentLock) {
      workloadAborted = true;
      started = List.copyOf(workloadResources);
    }
    started.forEach(ExecSession::abort);
  }

  private static void abort(AutoCloseable resource) {
    if (resource instanceof Abortable a) {
      a.abortBeforeAgent();
    } else {
      closeQuietly(resource);
    }
  }

  private static void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      logger.warn("clean-up of {} failed: {}", resource, e.toString());
    }
  }

  /** N of {@code /proc/N}. */
  private static int pidOf(Path procDir) {
    return Integer.parseInt(procDir.getFileName().toString());
  }

  private CompletableFuture<SessionProxy> startProxy() {
    return onDaemonThread(
        "mirrord-proxy-start",
        () -> SessionProxy.start(dir.token(), p.notices(), localPortFor(p.config()), httpFilterPolicy(p.config())));
  }

  /** What {@code work} returns, or what it throws, from a daemon thread named {@code name}. */
  private static <T> CompletableFuture<T> onDaemonThread(String name, java.util.concurrent.Callable<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread.ofPlatform()
        .name(name)
        .daemon()
        .start(
            () -> {
              try {
                result.complete(work.call());
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result;
  }

  private static SessionProxy awaitProxy(CompletableFuture<SessionProxy> started)
      throws InterruptedException {
    try {
      return started.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new MirrordException(ExitCode.AGENT_FAILED, "cannot start the session proxy (" + e.getCause() + ")", e.getCause());
    }
  }

  /** The target's environment as the app gets it ({@code env.*} filters), from {@code env}; null: import is off. */
  private Map<String, String> importEnv(RemoteResult<Map<String, String>> env) {
    MirrordConfig.Env envCfg = p.config().env();
    if (env == null) {
      logger.info("environment import disabled");
      return Map.of();
    }
    if (env instanceof RemoteResult.Err<Map<String, String>> err) {
      p.notices()
          .warn(
              "could not import the target's environment ("
                  + err.error().describe()
                  + "); the app runs with the local environment");
      return Map.of();
    }
    Map<String, String> imported = EnvFilter.of(envCfg).filter(env.value());
    logger.info(
        "imported {} of {} target environment variables: {}",
        imported.size(),
        env.value().size(),
        imported.keySet());
    return imported;
  }

  /**
   * With remote DNS on, the target's resolv.conf and hosts copied into the session dir for the
   * app's own resolvers; a target file that cannot be had leaves the local one in place (one WARN
   * here and in each layer's log), it never fails the session.
   */
  private TargetResolverFiles resolverFiles(ProtocolVersion negotiated) throws InterruptedException {
    if (!p.config().dns().remote()) {
      return TargetResolverFiles.none();
    }
    if (negotiated.compareTo(Target.RESOLVER_FILES_SINCE) < 0) {
      return logged(
          TargetResolverFiles.unavailable(
              "the agent speaks protocol " + negotiated + ", older than "
                  + Target.RESOLVER_FILES_SINCE + " (no resolver files)"));
    }
    return resolverFiles(
        await(
            proxy.request(new Target.ResolverFilesRequest(0), Target.ResolverFiles.class),
            "the target's resolver files"));
  }

  /** {@code answer} (the agent's, or this CLI's own read of a local target) copied into the session dir. */
  private TargetResolverFiles resolverFiles(Target.ResolverFiles answer) {
    TargetResolverFiles files;
    try {
      files = TargetResolverFiles.write(dir, answer);
    } catch (java.io.IOException e) {
      files = TargetResolverFiles.unavailable("cannot copy the target's resolver files into " + dir.dir() + " (" + e + ")");
    }
    return logged(files);
  }

  private TargetResolverFiles logged(TargetResolverFiles files) {
    if (files.problem() != null) {
      logger.warn("{}", files.problem());
    } else {
      logger.info("the app's own resolvers read the target's /etc/resolv.conf and /etc/hosts (copies in {})", dir.dir());
    }
    return files;
  }

  private <T> T await(CompletableFuture<T> future, String what) throws InterruptedException {
    try {
      return future.get(AGENT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof MirrordException m) {
        throw m;
      }
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "the mirrord agent failed on " + what + " (" + e.getCause() + "); see " + agentLog(),
          e.getCause());
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "the mirrord agent did not answer "
              + what
              + " within "
              + AGENT_TIMEOUT.toSeconds()
              + " s; see "
              + agentLog());
    }
  }

  /** Where the agent's log is: its file for local agents, a kubectl command for agents in a cluster. */
  private String agentLog() {
    RunningAgent a = agent;
    String hint = a == null ? null : a.logHint();
    return hint != null ? hint : siblingLog("agent").toString();
  }

  /**
   * Removes, on a daemon thread beside the command's start, the session dirs of CLIs that died without their
   * clean-up, and session logs older than a week ({@link SessionDir#sweepSiblings()}).
   */
  private static void sweepStaleSessionDirs(SessionDir own) {
    Thread.ofPlatform().daemon().name("mirrord-sweep").start(() -> {
      long t0 = System.nanoTime();
      int removed = own.sweepSiblings();
      if (removed > 0) {
        logger.info("removed {} session dir(s) of ended CLIs and week-old session log(s) in {} ({} ms)", removed,
            own.dir().getParent(), (System.nanoTime() - t0) / 1_000_000);
      }
    });
  }

  /** {@code <log dir>/mirrord-<session>-<what>.log}, next to the CLI's log file. */
  private Path siblingLog(String what) {
    Path parent = p.logFile().toAbsolutePath().getParent();
    return parent.resolve("mirrord-" + p.sessionId() + "-" + what + ".log");
  }

  /**
   * Runs from the main path and from the shutdown hook: once, and the second caller waits for the
   * first one's end (see {@link CleanUpOnce}).
   */
  private void cleanUp() {
    if (!cleanUp.run()) {
      logger.warn("the session's clean-up had not ended after {} s", CLEAN_UP_WAIT.toSeconds());
    }
  }

  private void cleanUpOnce() {
    RunningAgent started;
    synchronized (agentLock) {
      cleaningUp = true;
      started = agent;
    }
    for (AutoCloseable resource : workloadResources) {
      closeQuietly(resource);
    }
    if (proxy != null) {
      proxy.close();
    } else if (proxyStart != null) {
      proxyStart.thenAccept(SessionProxy::close); // started or starting while the agent failed
    }
    if (started != null) {
      started.close();
    }
    if (dir != null) {
      dir.close();
    }
    logger.info("session {} cleaned up", p.sessionId());
  }

  /** The session's HTTP filter ({@code incoming.http_filter}), or none. */
  static dev.mirrord.jvm.cli.proxy.HttpFilterPolicy httpFilterPolicy(MirrordConfig config) {
    var f = config.incoming().httpFilter();
    if (f == null || !f.isSet()) {
      return dev.mirrord.jvm.cli.proxy.HttpFilterPolicy.NONE;
    }
    var filter = f.toFilter("incoming.http_filter");
    return new dev.mirrord.jvm.cli.proxy.HttpFilterPolicy(filter, f.portSet(), describe(filter));
  }

  private static String describe(dev.mirrord.jvm.protocol.Http.Filter f) {
    if (f instanceof dev.mirrord.jvm.protocol.Http.Filter.Header h) {
      return "header_filter(" + h.regex() + ")";
    } else if (f instanceof dev.mirrord.jvm.protocol.Http.Filter.Path p) {
      return "path_filter(" + p.regex() + ")";
    } else if (f instanceof dev.mirrord.jvm.protocol.Http.Filter.Method m) {
      return "method_filter(" + m.method() + ")";
    } else if (f instanceof dev.mirrord.jvm.protocol.Http.Filter.AllOf a) {
      return "all_of" + a.filters().stream().map(ExecSession::describe).toList();
    }
    return "any_of" + ((dev.mirrord.jvm.protocol.Http.Filter.AnyOf) f).filters().stream().map(ExecSession::describe).toList();
  }

  /** The app's local port for a target port: {@code --port-map LOCAL:REMOTE} read backwards. */
  static java.util.function.IntUnaryOperator localPortFor(dev.mirrord.jvm.cli.config.MirrordConfig config) {
    Map<Integer, Integer> remoteToLocal = new java.util.HashMap<>();
    for (var m : config.incoming().portMap()) {
      remoteToLocal.putIfAbsent(m.remote(), m.local());
    }
    return remote -> remoteToLocal.getOrDefault(remote, remote);
  }
}
