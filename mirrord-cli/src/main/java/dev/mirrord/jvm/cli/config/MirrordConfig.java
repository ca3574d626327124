package dev.mirrord.jvm.cli.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The session configuration, as written in {@code mirrord.json} (see {@code
 * docs/mirrord.schema.json}; a unit test keeps both in sync).
 *
 * <p>Every field may be null: a null means "not set at this level". {@link ConfigLoader} overlays
 * the levels (defaults &lt; file &lt; {@code MIRRORD_*} env &lt; flags) with {@link #overlay}; after
 * that only {@code target}, {@code namespace}, {@code context}, {@code log_file} and {@code
 * agent.namespace} can still be null. Lists replace lower levels' lists, they are not appended.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MirrordConfig(
    @JsonProperty("target") String target,
    @JsonProperty("namespace") String namespace,
    @JsonProperty("context") String context,
    @JsonProperty("incoming") Incoming incoming,
    @JsonProperty("outgoing") Outgoing outgoing,
    @JsonProperty("dns") Dns dns,
    @JsonProperty("env") Env env,
    @JsonProperty("log_file") String logFile,
    @JsonProperty("verbose") Boolean verbose,
    @JsonProperty("agent") Agent agent,
    @JsonProperty("skip_build_tools") Boolean skipBuildTools,
    @JsonProperty("skip_jvms") List<String> skipJvms,
    @JsonProperty("skip_processes") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        List<String> skipProcesses,
    @JsonProperty("accept_invalid_certificates") Boolean acceptInvalidCertificates,
    @JsonProperty("layer") Layer layer) {

  /** Nothing set. */
  public static final MirrordConfig EMPTY =
      new MirrordConfig(null, null, null, null, null, null, null, null, null, null);

  public MirrordConfig {
    skipJvms = copy(skipJvms);
    skipProcesses = copy(skipProcesses);
  }

  /** Without the JVM skip settings (they stay at the lower levels' values). */
  public MirrordConfig(
      String target,
      String namespace,
      String context,
      Incoming incoming,
      Outgoing outgoing,
      Dns dns,
      Env env,
      String logFile,
      Boolean verbose,
      Agent agent) {
    this(target, namespace, context, incoming, outgoing, dns, env, logFile, verbose, agent, null, null, null, null, null);
  }

  /** The lowest level: what mirrord does when nobody says otherwise. */
  public static final MirrordConfig DEFAULTS =
      new MirrordConfig(
          null,
          null,
          null,
          new Incoming(IncomingMode.MIRROR, List.of(), List.of(), true, Incoming.DEFAULT_HAND_BACK_GRACE_SECONDS),
          new Outgoing(true, true),
          new Dns(true),
          new Env(true, List.of(), List.of()),
          null,
          false,
          new Agent(
              Agent.DEFAULT_IMAGE, null, Agent.DEFAULT_STARTUP_TIMEOUT_SECONDS, false, null),
          true,
          List.of(),
          null,
          null,
          new Layer(OnDisconnect.EXIT));

  /** Incoming traffic to the target's ports. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Incoming(
      @JsonProperty("mode") IncomingMode mode,
      @JsonProperty("port_map") List<PortMapping> portMap,
      @JsonProperty("ignore_ports") List<Integer> ignorePorts,
      @JsonProperty("flush_connections") Boolean flushConnections,
      @JsonProperty("hand_back_grace_seconds") Integer handBackGraceSeconds,
      @JsonProperty("http_filter") HttpFilterConfig httpFilter) {
    /** Steal: seconds connections in flight may finish after a port is handed back. */
    public static final int DEFAULT_HAND_BACK_GRACE_SECONDS = 3;

    public Incoming {
      portMap = copy(portMap);
      ignorePorts = copy(ignorePorts);
    }

    public Incoming(IncomingMode mode, List<PortMapping> portMap, List<Integer> ignorePorts) {
      this(mode, portMap, ignorePorts, null, null);
    }

    public Incoming(IncomingMode mode, List<PortMapping> portMap, List<Integer> ignorePorts,
        Boolean flushConnections, Integer handBackGraceSeconds) {
      this(mode, portMap, ignorePorts, flushConnections, handBackGraceSeconds, null);
    }

    /** This level with {@code http_filter} set. */
    public Incoming withHttpFilter(HttpFilterConfig filter) {
      return new Incoming(mode, portMap, ignorePorts, flushConnections, handBackGraceSeconds, filter);
    }

    /** Steal: whether connections opened before the steal are flushed (default true). */
    public boolean flushes() {
      return flushConnections == null || flushConnections;
    }

    /** Whether the session mirrors (the default mode), as opposed to {@code steal} or {@code off}. */
    public boolean mirrors() {
      return mode == null || mode == IncomingMode.MIRROR;
    }

    /** Steal: the hand-back grace period in seconds. */
    public int graceSeconds() {
      return handBackGraceSeconds == null ? DEFAULT_HAND_BACK_GRACE_SECONDS : handBackGraceSeconds;
    }

    Incoming overlay(Incoming o) {
      return o == null
          ? this
          : new Incoming(
              pick(mode, o.mode),
              pick(portMap, o.portMap),
              pick(ignorePorts, o.ignorePorts),
              pick(flushConnections, o.flushConnections),
              pick(handBackGraceSeconds, o.handBackGraceSeconds),
              pick(httpFilter, o.httpFilter));
    }
  }

  /** {@code mirror} copies the target's incoming traffic, {@code steal} takes it over. */
  public enum IncomingMode {
    MIRROR,
    STEAL,
    OFF;

    @JsonValue
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code mirror|steal|off}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static IncomingMode parse(String text) {
      for (IncomingMode m : values()) {
        if (m.wireName().equals(text)) {
          return m;
        }
      }
      throw new IllegalArgumentException("'" + text + "' is not a mode: expected mirror, steal or off");
    }
  }

  /** Outgoing connections made by the app: through the target (true) or local (false). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Outgoing(
      @JsonProperty("tcp") Boolean tcp,
      @JsonProperty("udp") Boolean udp,
      @JsonProperty("filter") Filter filter) {
    public Outgoing(Boolean tcp, Boolean udp) {
      this(tcp, udp, null);
    }

    Outgoing overlay(Outgoing o) {
      return o == null
          ? this
          : new Outgoing(pick(tcp, o.tcp), pick(udp, o.udp), pick(filter, o.filter));
    }

    /** The filter, or an empty one. */
    public Filter filterOrEmpty() {
      return filter == null ? new Filter(List.of(), List.of()) : filter;
    }
  }

  /**
   * Which destinations go through the target (as mirrord's {@code outgoing.filter}): {@code remote}
   * lists the only ones that do, {@code local} the ones that stay local; at most one is set. Entries:
   * {@code [tcp://|udp://]<host|ip|cidr>[:port]}.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Filter(
      @JsonProperty("local") List<String> local, @JsonProperty("remote") List<String> remote) {
    public Filter {
      local = local == null ? List.of() : copy(local);
      remote = remote == null ? List.of() : copy(remote);
    }
  }

  /** Name resolution: in the target (true) or local (false). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Dns(@JsonProperty("remote") Boolean remote) {
    Dns overlay(Dns o) {
      return o == null ? this : new Dns(pick(remote, o.remote));
    }
  }

  /**
   * Import of the target's environment variables into the app. {@code include}/{@code exclude} are
   * globs ({@code *} matches anything); an empty include means everything.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Env(
      @JsonProperty("import") Boolean importEnv,
      @JsonProperty("include") List<String> include,
      @JsonProperty("exclude") List<String> exclude) {
    public Env {
      include = copy(include);
      exclude = copy(exclude);
    }

    Env overlay(Env o) {
      return o == null
          ? this
          : new Env(pick(importEnv, o.importEnv), pick(include, o.include), pick(exclude, o.exclude));
    }
  }

  /**
   * The pod agent on Kubernetes targets: its image, the namespace of its Job (default: the
   * target's), how long it may take to get ready, and whether it runs as an ephemeral container in
   * the target pod instead of a Job.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Agent(
      @JsonProperty("image") String image,
      @JsonProperty("namespace") String namespace,
      @JsonProperty("startup_timeout") Integer startupTimeout,
      @JsonProperty("ephemeral") Boolean ephemeral,
      @JsonProperty("container") Boolean container,
      @JsonProperty("ttl") Integer ttl) {
    /** The image built from mirrord-pod-agent/Dockerfile; no registry hosts it yet. */
    public static final String DEFAULT_IMAGE = "ghcr.io/mirrord-jvm/mirrord-pod-agent:latest";

    public static final int DEFAULT_STARTUP_TIMEOUT_SECONDS = 60;

    /** Seconds the agent may take from creation to its ready line. */
    public int startupTimeoutSeconds() {
      return startupTimeout == null ? DEFAULT_STARTUP_TIMEOUT_SECONDS : startupTimeout;
    }

    /** Without {@code container} and {@code ttl} (not set at this level). */
    public Agent(String image, String namespace, Integer startupTimeout, Boolean ephemeral) {
      this(image, namespace, startupTimeout, ephemeral, null, null);
    }

    /** Without {@code ttl} (not set at this level). */
    public Agent(String image, String namespace, Integer startupTimeout, Boolean ephemeral, Boolean container) {
      this(image, namespace, startupTimeout, ephemeral, container, null);
    }

    /**
     * {@code agent.ttl}: seconds a {@code pid/N} target's agent stays after its session, for the next
     * {@code mirrord exec} against the same target to reuse (0, the default: it exits with the session).
     */
    public int ttlSeconds() {
      return ttl == null ? 0 : ttl;
    }

    public boolean isEphemeral() {
      return Boolean.TRUE.equals(ephemeral);
    }

    /** {@code container/NAME} targets: the agent runs as a container of {@link #image}. */
    public boolean isContainer() {
      return Boolean.TRUE.equals(container);
    }

    public String imageOrDefault() {
      return image == null ? DEFAULT_IMAGE : image;
    }

    /**
     * The image for an agent container on this machine: {@link #image} if set to anything but the
     * cluster default, else {@code localhost/mirrord-pod-agent:<version>} as scripts/image.sh tags it.
     */
    public String localImage(String version) {
      return image == null || image.equals(DEFAULT_IMAGE) ? "localhost/mirrord-pod-agent:" + version : image;
    }

    Agent overlay(Agent o) {
      return o == null
          ? this
          : new Agent(
              pick(image, o.image),
              pick(namespace, o.namespace),
              pick(startupTimeout, o.startupTimeout),
              pick(ephemeral, o.ephemeral),
              pick(container, o.container),
              pick(ttl, o.ttl));
    }
  }

  /** The layer inside the app's JVMs. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Layer(@JsonProperty("on_disconnect") OnDisconnect onDisconnect) {
    Layer overlay(Layer o) {
      return o == null ? this : new Layer(pick(onDisconnect, o.onDisconnect));
    }

    /** Whether a JVM that lost mirrord ends (the default) rather than running on without it. */
    public boolean exits() {
      return onDisconnect != OnDisconnect.CONTINUE;
    }
  }

  /**
   * What a JVM does when its layer loses the CLI (killed, crashed, or the session ended because
   * the agent was lost): {@code exit} with one stderr line and exit code 75, or {@code continue}
   * without mirrord.
   */
  public enum OnDisconnect {
    EXIT,
    CONTINUE;

    @JsonValue
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code exit|continue}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static OnDisconnect parse(String text) {
      for (OnDisconnect m : values()) {
        if (m.wireName().equals(text)) {
          return m;
        }
      }
      throw new IllegalArgumentException("'" + text + "' is not a choice: expected exit or continue");
    }
  }

  /** The layer settings, with the defaults where nothing is set. */
  public Layer layerOrDefault() {
    return layer == null ? DEFAULTS.layer : DEFAULTS.layer.overlay(layer);
  }

  /** This level with every field that {@code higher} sets replaced by {@code higher}'s value. */
  public MirrordConfig overlay(MirrordConfig higher) {
    if (higher == null) {
      return this;
    }
    return new MirrordConfig(
        pick(target, higher.target),
        pick(namespace, higher.namespace),
        pick(context, higher.context),
        incoming == null ? higher.incoming : incoming.overlay(higher.incoming),
        outgoing == null ? higher.outgoing : outgoing.overlay(higher.outgoing),
        dns == null ? higher.dns : dns.overlay(higher.dns),
        env == null ? higher.env : env.overlay(higher.env),
        pick(logFile, higher.logFile),
        pick(verbose, higher.verbose),
        agent == null ? higher.agent : agent.overlay(higher.agent),
        pick(skipBuildTools, higher.skipBuildTools),
        pick(skipJvms, higher.skipJvms),
        pick(skipProcesses, higher.skipProcesses),
        pick(acceptInvalidCertificates, higher.acceptInvalidCertificates),
        layer == null ? higher.layer : layer.overlay(higher.layer));
  }

  /** {@code -c}: trust the Kubernetes API server's certificate whatever it is. */
  public boolean acceptsInvalidCertificates() {
    return Boolean.TRUE.equals(acceptInvalidCertificates);
  }

  /**
   * Whether build tools' own JVMs stay without the layer ({@code skip_build_tools}, default true);
   * the JVMs they start get it.
   */
  public boolean skipsBuildTools() {
    return skipBuildTools == null || skipBuildTools;
  }

  /**
   * The main-class / jar globs of JVMs that stay without the layer: {@code skip_jvms}, or its alias
   * {@code skip_processes} (mirrord's name).
   */
  public List<String> skipJvmGlobs() {
    List<String> globs = skipJvms != null ? skipJvms : skipProcesses;
    return globs == null ? List.of() : globs;
  }

  /** This level with {@code skip_processes} moved to {@code skip_jvms} (the loader does it per level). */
  MirrordConfig withSkipProcessesAsSkipJvms() {
    if (skipProcesses == null) {
      return this;
    }
    return new MirrordConfig(
        target, namespace, context, incoming, outgoing, dns, env, logFile, verbose, agent,
        skipBuildTools, skipProcesses, null, acceptInvalidCertificates, layer);
  }

  /** The parsed target, or null if none is set. */
  public TargetSpec targetSpec() {
    return target == null ? null : TargetSpec.parse(target);
  }

  /** The log file, or null if not set (then the CLI picks one under the temp dir). */
  public Path logFilePath() {
    return logFile == null ? null : Path.of(logFile);
  }

  public boolean isVerbose() {
    return Boolean.TRUE.equals(verbose);
  }

  public MirrordConfig withLogFile(String file) {
    return new MirrordConfig(
        target, namespace, context, incoming, outgoing, dns, env, file, verbose, agent,
        skipBuildTools, skipJvms, skipProcesses, acceptInvalidCertificates, layer);
  }

  /** An unmodifiable copy that keeps null elements, so that validation can name them. */
  private static <T> List<T> copy(List<T> list) {
    return list == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(list));
  }

  private static <T> T pick(T lower, T higher) {
    return higher != null ? higher : lower;
  }
}
