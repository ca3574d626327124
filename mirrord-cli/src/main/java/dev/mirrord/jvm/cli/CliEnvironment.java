package dev.mirrord.jvm.cli;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.kube.KubeClientFactory;
import dev.mirrord.jvm.cli.kube.KubernetesAgentLauncher;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the commands take from the outside world, in one value so tests can replace it: the
 * environment variables, system properties, the temp dir, how agents are started, and whether
 * SIGINT/SIGTERM handlers are installed. Commands never call {@code System.getenv} themselves.
 */
public record CliEnvironment(
    Map<String, String> env,
    Map<String, String> systemProperties,
    Path tmpDir,
    AgentLaunchers agentLaunchers,
    boolean forwardSignals) {

  /** Picks the agent launcher for a target. */
  @FunctionalInterface
  public interface AgentLaunchers {
    AgentLauncher forTarget(TargetSpec target, CliEnvironment environment);

    /**
     * With the merged config (namespace, context, {@code agent.*}) and the user's notice channel
     * (progress lines); the default ignores both.
     */
    default AgentLauncher forTarget(
        TargetSpec target, CliEnvironment environment, MirrordConfig config, UserNotices notices) {
      return forTarget(target, environment);
    }
  }

  /** The real launchers: the pid launcher for {@code pid/N}, the Kubernetes one for the rest. */
  static final class DefaultAgentLaunchers implements AgentLaunchers {
    @Override
    public AgentLauncher forTarget(TargetSpec target, CliEnvironment environment) {
      return defaultLauncher(target, environment);
    }

    @Override
    public AgentLauncher forTarget(
        TargetSpec target, CliEnvironment environment, MirrordConfig config, UserNotices notices) {
      if (target instanceof TargetSpec.Pid) {
        int ttl = config.agent() == null ? 0 : config.agent().ttlSeconds();
        return LocalAgentLauncher.forThisHost(environment).keepingAgents(ttl, keptAgentsDir(environment));
      }
      if (target instanceof TargetSpec.Container) {
        return containerLauncher(environment, config, notices);
      }
      return KubernetesAgentLauncher.create(
          () ->
              KubeClientFactory.connect(
                  environment.env(), config.context(), config.namespace(), config.acceptsInvalidCertificates()),
          new KubernetesAgentLauncher.Settings(
              target, config.agent(), environment.owner(), java.time.Duration.ofMillis(500)),
          notices);
    }
  }

  /** Where agents kept between sessions ({@code agent.ttl}) listen and log: {@code <tmp>/mirrord-agents}. */
  public static java.nio.file.Path keptAgentsDir(CliEnvironment environment) {
    return environment.tmpDir().resolve("mirrord-agents");
  }

  /** {@code container/NAME}: the runtimes on PATH, the agent as a local process or a container. */
  static AgentLauncher containerLauncher(CliEnvironment environment, MirrordConfig config, UserNotices notices) {
    MirrordConfig.Agent agent = config.agent() != null ? config.agent() : MirrordConfig.DEFAULTS.agent();
    java.nio.file.Path proc = java.nio.file.Path.of("/proc");
    long nofile;
    try {
      nofile = dev.mirrord.jvm.cli.container.ContainerAgentLauncher.hardNofile(
          java.nio.file.Files.readString(proc.resolve("self/limits")));
    } catch (java.io.IOException e) {
      nofile = -1;
    }
    dev.mirrord.jvm.cli.container.Commands commands = dev.mirrord.jvm.cli.container.Commands.system();
    return new dev.mirrord.jvm.cli.container.ContainerAgentLauncher(
        new dev.mirrord.jvm.cli.container.LocalContainers(
            dev.mirrord.jvm.cli.container.ContainerRuntime.detect(environment.env()), commands),
        commands,
        new dev.mirrord.jvm.cli.container.ContainerAgentLauncher.Settings(
            agent.isContainer(),
            agent.localImage(VersionInfo.VERSION),
            java.time.Duration.ofSeconds(agent.startupTimeoutSeconds())),
        () -> LocalAgentLauncher.effectiveUid(proc.resolve("self/status")) == 0,
        pid -> LocalAgentLauncher.forThisHost(environment),
        notices,
        nofile);
  }

  public CliEnvironment {
    env = Map.copyOf(env);
    systemProperties = Map.copyOf(systemProperties);
    Objects.requireNonNull(tmpDir, "tmpDir");
    Objects.requireNonNull(agentLaunchers, "agentLaunchers");
  }

  /** The real process environment. */
  public static CliEnvironment system() {
    Map<String, String> props = new HashMap<>();
    System.getProperties().forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
    return new CliEnvironment(
        System.getenv(),
        props,
        Path.of(System.getProperty("java.io.tmpdir")),
        new DefaultAgentLaunchers(),
        true);
  }

  /**
   * Without config: {@code pid/N} only (the pod agent under nsenter). Kubernetes targets need the
   * merged config; {@link DefaultAgentLaunchers} builds their launcher.
   */
  public static AgentLauncher defaultLauncher(TargetSpec target, CliEnvironment environment) {
    if (target instanceof TargetSpec.Pid) {
      return LocalAgentLauncher.forThisHost(environment);
    }
    return new DefaultAgentLaunchers()
        .forTarget(
            target,
            environment,
            MirrordConfig.DEFAULTS,
            new UserNotices(new java.io.PrintWriter(System.err, true)));
  }

  /** {@code user@host} for the agent's owner annotation. */
  public String owner() {
    String user = systemProperties.getOrDefault("user.name", env.getOrDefault("USER", "unknown"));
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException | RuntimeException e) {
      host = env.getOrDefault("HOSTNAME", "unknown");
    }
    return user + "@" + host;
  }

  public CliEnvironment withAgentLaunchers(AgentLaunchers launchers) {
    return new CliEnvironment(env, systemProperties, tmpDir, launchers, forwardSignals);
  }

  public CliEnvironment withEnv(Map<String, String> newEnv) {
    return new CliEnvironment(newEnv, systemProperties, tmpDir, agentLaunchers, forwardSignals);
  }

  public CliEnvironment withSystemProperties(Map<String, String> props) {
    return new CliEnvironment(env, props, tmpDir, agentLaunchers, forwardSignals);
  }

  public CliEnvironment withTmpDir(Path dir) {
    return new CliEnvironment(env, systemProperties, dir, agentLaunchers, forwardSignals);
  }

  public CliEnvironment withForwardSignals(boolean forward) {
    return new CliEnvironment(env, systemProperties, tmpDir, agentLaunchers, forward);
  }

  /** A system property, else an environment variable, else null (jar locations). */
  public String propertyOrEnv(String property, String envVar) {
    String v = systemProperties.get(property);
    if (v == null || v.isBlank()) {
      v = env.get(envVar);
    }
    return v == null || v.isBlank() ? null : v;
  }
}
