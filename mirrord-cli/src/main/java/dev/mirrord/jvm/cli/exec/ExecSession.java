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
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.codec.CodecWarmUp;
import dev.mirrord.jvm.protocol.jvm.AotCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code mirrord exec} run, in order: session dir → agent → session proxy + handshake → target
 * info and environment import → session file → the user's command → wait → clean-up (child tree,
 * proxy, agent, session dir), also from a shutdown hook if the CLI is stopped some other way.
 */
public final class ExecSession {
  private static final Logger logger = LoggerFactory.getLogger(ExecSession.class);

  static final Duration AGENT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration CHILD_GRACE = Duration.ofSeconds(5);

  /**
   * What the command resolved before anything is started; {@code warnings} are shown once the
   * agent is up, right before the command starts.
   */
  public record Params(
      CliEnvironment environment,
      MirrordConfig config,
      TargetSpec target,
      AgentLauncher launcher,
      Path layerJar,
      String sessionId,
      Path logFile,
      List<String> command,
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
      command = List.copyOf(command);
      Objects.requireNonNull(notices, "notices");
      warnings = List.copyOf(warnings);
    }
  }

  private final Params p;
  private final AtomicBoolean cleaned = new AtomicBoolean();
  private volatile SessionDir dir;
  private volatile RunningAgent agent;
  private volatile SessionProxy proxy;
  private volatile CompletableFuture<SessionProxy> proxyStart;
  private volatile ChildProcess child;

  private ExecSession(Params params) {
    this.p = params;
  }

  /** Runs the session; returns the child's exit code. */
  public static int run(Params params) throws InterruptedException {
    return new ExecSession(params).run();
  }

  private int run() throws InterruptedException {
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
      agent =
          p.launcher()
              .launch(
                  new AgentRequest(
                      p.target(),
                      dir.agentSocket(),
                      dir.token(),
                      siblingLog("agent"),
                      p.config().isVerbose(),
                      p.config().incoming().flushes(),
                      p.config().incoming().graceSeconds()));
      proxy = awaitProxy(proxyStart);
      try {
        await(proxy.connectAgent(agent.address()), "the agent handshake");
      } catch (MirrordException e) {
        // the transport may know better (e.g. a port-forward the API server refused)
        throw agent.explain(e);
      }

      // both questions leave at once: one round trip to the agent instead of two
      CompletableFuture<Target.TargetInfo> infoAsked =
          proxy.request(new Target.TargetInfoRequest(0), Target.TargetInfo.class);
      CompletableFuture<Target.EnvResponse> envAsked =
          Boolean.TRUE.equals(p.config().env().importEnv())
              ? proxy.request(new Target.EnvRequest(0), Target.EnvResponse.class)
              : null;
      Target.TargetInfo info = await(infoAsked, "target info");
      logger.info(
          "target {}: pid {} netns {} hostname {} addresses {}",
          p.target().describe(),
          info.pid(),
          info.netnsInode(),
          info.hostname(),
          info.addresses());
      Map<String, String> imported = importEnv(envAsked);

      java.util.Properties session =
          JvmLauncher.sessionProperties(
              p.sessionId(), proxy.port(), dir.token(), siblingLog("layer"), p.config());
      Path cacheRoot = AotCache.root(p.environment().env()::get);
      if (cacheRoot != null) {
        session.setProperty("hook.cache.dir", cacheRoot.toAbsolutePath().toString());
      }
      dir.writeSessionFile(session);
      p.warnings().forEach(p.notices()::warn);
      JvmLauncher.LaunchPlan plan =
          JvmLauncher.plan(p.command(), p.environment().env(), imported, p.layerJar(), dir.sessionFile());
      child = ChildProcess.start(plan, CHILD_GRACE);
      return child.waitFor(p.environment().forwardSignals());
    } finally {
      cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down; the hook runs cleanUp, which is idempotent
      }
    }
  }

  private CompletableFuture<SessionProxy> startProxy() {
    CompletableFuture<SessionProxy> started = new CompletableFuture<>();
    Thread.ofPlatform()
        .name("mirrord-proxy-start")
        .daemon()
        .start(
            () -> {
              try {
                started.complete(SessionProxy.start(dir.token(), p.notices(), localPortFor(p.config())));
              } catch (Throwable t) {
                started.completeExceptionally(t);
              }
            });
    return started;
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

  private Map<String, String> importEnv(CompletableFuture<Target.EnvResponse> asked)
      throws InterruptedException {
    MirrordConfig.Env envCfg = p.config().env();
    if (asked == null) {
      logger.info("environment import disabled");
      return Map.of();
    }
    Target.EnvResponse response = await(asked, "the target's environment");
    if (response.env() instanceof RemoteResult.Err<Map<String, String>> err) {
      p.notices()
          .warn(
              "could not import the target's environment ("
                  + err.error().describe()
                  + "); the app runs with the local environment");
      return Map.of();
    }
    Map<String, String> imported = EnvFilter.of(envCfg).filter(response.env().value());
    logger.info(
        "imported {} of {} target environment variables: {}",
        imported.size(),
        response.env().value().size(),
        imported.keySet());
    return imported;
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

  /** {@code <log dir>/mirrord-<session>-<what>.log}, next to the CLI's log file. */
  private Path siblingLog(String what) {
    Path parent = p.logFile().toAbsolutePath().getParent();
    return parent.resolve("mirrord-" + p.sessionId() + "-" + what + ".log");
  }

  /** Idempotent; runs from the main path and from the shutdown hook. */
  private void cleanUp() {
    if (!cleaned.compareAndSet(false, true)) {
      return;
    }
    if (child != null) {
      child.close();
    }
    if (proxy != null) {
      proxy.close();
    } else if (proxyStart != null) {
      proxyStart.thenAccept(SessionProxy::close); // started or starting while the agent failed
    }
    if (agent != null) {
      agent.close();
    }
    if (dir != null) {
      dir.close();
    }
    logger.info("session {} cleaned up", p.sessionId());
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
