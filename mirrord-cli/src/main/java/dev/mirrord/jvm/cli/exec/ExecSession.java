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
      proxy = SessionProxy.start(dir.token(), p.notices(), localPortFor(p.config()));
      proxy.endAppOnAgentLoss(p.config().layerOrDefault().exits());
      try {
        await(proxy.connectAgent(agent.address()), "the agent handshake");
      } catch (MirrordException e) {
        // the transport may know better (e.g. a port-forward the API server refused)
        throw agent.explain(e);
      }

      Target.TargetInfo info =
          await(proxy.request(new Target.TargetInfoRequest(0), Target.TargetInfo.class), "target info");
      logger.info(
          "target {}: pid {} netns {} hostname {} addresses {}",
          p.target().describe(),
          info.pid(),
          info.netnsInode(),
          info.hostname(),
          info.addresses());
      Map<String, String> imported = importEnv();

      java.util.Properties session =
          JvmLauncher.sessionProperties(
              p.sessionId(), proxy.port(), dir.token(), siblingLog("layer"), p.config());
      proxy.relayAddresses().addTo(session);
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

  private Map<String, String> importEnv() throws InterruptedException {
    MirrordConfig.Env envCfg = p.config().env();
    if (!Boolean.TRUE.equals(envCfg.importEnv())) {
      logger.info("environment import disabled");
      return Map.of();
    }
    Target.EnvResponse response =
        await(proxy.request(new Target.EnvRequest(0), Target.EnvResponse.class), "the target's environment");
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
