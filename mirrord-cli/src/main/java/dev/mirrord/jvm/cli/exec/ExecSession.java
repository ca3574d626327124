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
 */
public final class ExecSession {
  private static final Logger logger = LoggerFactory.getLogger(ExecSession.class);

  static final Duration AGENT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration CHILD_GRACE = Duration.ofSeconds(5);

  /**
   * What the command resolved before anything is started; {@code warnings} are shown once the
   * agent is up, right before the workload starts.
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
    return ready -> {
      JvmLauncher.LaunchPlan plan =
          JvmLauncher.plan(cmd, environment.env(), ready.importedEnv(), layerJar, ready.sessionFile());
      ChildProcess child = ChildProcess.start(plan, CHILD_GRACE);
      ready.closeOnCleanUp(child);
      return child.waitFor(environment.forwardSignals());
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
                      p.config().incoming().graceSeconds(),
                      p.config().incoming().mirrors()));
      proxy = awaitProxy(proxyStart);
      proxy.endAppOnAgentLoss(p.config().layerOrDefault().exits());
      Session.HelloOk agentHello;
      try {
        String agentToken = agent.token() != null ? agent.token() : dir.token();
        agentHello = await(proxy.connectAgent(agent.address(), agentToken), "the agent handshake");
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

      Properties session =
          JvmLauncher.sessionProperties(
              p.sessionId(), proxy.port(), dir.token(), siblingLog("layer"), p.config());
      session.putAll(resolverFiles(agentHello.negotiated()).sessionProperties());
      proxy.relayAddresses().addTo(session);
      Path cacheRoot = AotCache.root(p.environment().env()::get);
      if (cacheRoot != null) {
        session.setProperty("hook.cache.dir", cacheRoot.toAbsolutePath().toString());
      }
      dir.writeSessionFile(session);
      p.warnings().forEach(p.notices()::warn);
      SessionProxy up = proxy;
      SessionDir sessionDir = dir;
      return workload.run(
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
              workloadResources.add(resource);
            }
          });
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
                started.complete(
                    SessionProxy.start(
                        dir.token(), p.notices(), localPortFor(p.config()), httpFilterPolicy(p.config())));
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

  /**
   * With remote DNS on, the target's resolv.conf and hosts copied into the session dir for the
   * app's own resolvers; a target file that cannot be had leaves the local one in place (one WARN
   * here and in each layer's log), it never fails the session.
   */
  private TargetResolverFiles resolverFiles(ProtocolVersion negotiated) throws InterruptedException {
    if (!p.config().dns().remote()) {
      return TargetResolverFiles.none();
    }
    TargetResolverFiles files;
    if (negotiated.compareTo(Target.RESOLVER_FILES_SINCE) < 0) {
      files =
          TargetResolverFiles.unavailable(
              "the agent speaks protocol " + negotiated + ", older than "
                  + Target.RESOLVER_FILES_SINCE + " (no resolver files)");
    } else {
      Target.ResolverFiles answer =
          await(
              proxy.request(new Target.ResolverFilesRequest(0), Target.ResolverFiles.class),
              "the target's resolver files");
      try {
        files = TargetResolverFiles.write(dir, answer);
      } catch (java.io.IOException e) {
        files = TargetResolverFiles.unavailable("cannot copy the target's resolver files into " + dir.dir() + " (" + e + ")");
      }
    }
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
    for (AutoCloseable resource : workloadResources) {
      try {
        resource.close();
      } catch (Exception e) {
        logger.warn("clean-up of {} failed: {}", resource, e.toString());
      }
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
