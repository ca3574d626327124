package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.internal.PlainFiles;
import dev.mirrord.jvm.layer.socket.RelaySource;
import dev.mirrord.jvm.protocol.OutgoingFilter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The layer's settings, read from the session file the CLI writes (a {@link Properties} file whose
 * path is the agent argument: {@code -javaagent:mirrord-layer-agent.jar=<session file>}).
 *
 * <p>Required keys: {@code proxy.host}, {@code proxy.port}, {@code token}, {@code log.file}. Optional
 * keys and their defaults: {@code log.level=info}, {@code incoming.mode=mirror}, {@code port.map=}
 * (e.g. {@code 8080:80,9090:9091}, local:remote), {@code ignore.ports=}, {@code outgoing.tcp=true},
 * {@code outgoing.udp=true}, {@code dns.remote=true}, {@code outgoing.filter.local=}, {@code outgoing.filter.remote=} (comma-separated
 * entries, see {@link OutgoingFilter}), {@code session.id=}, {@code skip.build_tools=true}, {@code
 * skip.jvms=} (comma-separated globs, see {@link JvmSkip}), {@code dns.resolv_conf=} and {@code
 * dns.hosts=} (copies of the target's files, see {@link ResolverFiles}), {@code dns.files.problem=}.
 * {@code incoming.relay.address=127.0.0.1} and {@code incoming.relay.ports6=} (where the CLI's relays
 * come from, see {@link RelaySource}), {@code on.disconnect=exit} ({@code exit|continue}: what the
 * layer does when its connection to the CLI is lost). {@code hook.cache.dir=} (where hooked
 * classes are kept between runs, {@link HookCache}; none if absent), {@code handshake.timeout.ms=5000}
 * (the bound of the layer's handshake with the CLI). Every error names the key and
 * the file.
 */
public record LayerConfig(
    Path sessionFile,
    String proxyHost,
    int proxyPort,
    String token,
    Path logFile,
    LayerLog.Level logLevel,
    Incoming incomingMode,
    Map<Integer, Integer> portMap,
    Set<Integer> ignorePorts,
    boolean outgoingTcp,
    boolean outgoingUdp,
    boolean dnsRemote,
    OutgoingFilter outgoingFilter,
    String sessionId,
    boolean skipBuildTools,
    List<String> skipJvms,
    ResolverFiles resolverFiles,
    RelaySource relaySource,
    OnDisconnect onDisconnect,
    Path hookCacheDir,
    long handshakeTimeoutMillis) {

  /**
   * How long the layer waits for its handshake with the CLI by default ({@code
   * handshake.timeout.ms}); the CLI sets more when it starts the command while the agent starts.
   */
  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 5000;

  /**
   * The copies of the target's {@code /etc/resolv.conf} and {@code /etc/hosts} the CLI wrote into
   * the session dir ({@code null}: the app reads this machine's file), and why some target file is
   * not served ({@code dns.files.problem}, {@code null} if none). Empty with {@code dns.remote=false}.
   */
  public record ResolverFiles(Path resolvConf, Path hosts, String problem) {
    public static final ResolverFiles NONE = new ResolverFiles(null, null, null);

    /**
     * A record's own format, by hand: the generated one bootstraps {@code ObjectMethods} (method
     * handles, string concatenation spun at run time), ~10 ms of the app's cold start, for the
     * layer's first log line.
     */
    @Override
    public String toString() {
      return "ResolverFiles[resolvConf=" + resolvConf + ", hosts=" + hosts + ", problem=" + problem + "]";
    }
  }

  /** What the layer does when its connection to the CLI is lost ({@code on.disconnect}). */
  public enum OnDisconnect {
    /** One line on stderr, then the JVM exits with {@code LayerAgent.EXIT_DISCONNECTED}. */
    EXIT,
    /** The app keeps running without mirrord (its hooks fall back to local behaviour). */
    CONTINUE
  }

  /** How incoming traffic of the target reaches this process ({@code incoming.mode}). */
  public enum Incoming {
    MIRROR,
    STEAL,
    OFF
  }

  public LayerConfig {
    portMap = Collections.unmodifiableMap(new LinkedHashMap<>(portMap));
    ignorePorts = Collections.unmodifiableSet(new LinkedHashSet<>(ignorePorts));
    skipJvms = List.copyOf(skipJvms);
  }

  /** The remote port a local port stands for ({@code port.map}), or the port itself. */
  public int remotePortFor(int localPort) {
    return portMap.getOrDefault(localPort, localPort);
  }

  @Override
  public String toString() {
    return "LayerConfig[proxy="
        + proxyHost
        + ":"
        + proxyPort
        + ", token=<redacted>, log="
        + logFile
        + " ("
        + logLevel
        + "), incoming="
        + incomingMode
        + ", portMap="
        + portMap
        + ", ignorePorts="
        + ignorePorts
        + ", outgoingTcp="
        + outgoingTcp
        + ", outgoingUdp="
        + outgoingUdp
        + ", dnsRemote="
        + dnsRemote
        + ", outgoingFilter="
        + outgoingFilter
        + ", session="
        + sessionId
        + ", skipBuildTools="
        + skipBuildTools
        + ", skipJvms="
        + skipJvms
        + ", resolverFiles="
        + resolverFiles
        + ", relays="
        + relaySource
        + ", onDisconnect="
        + onDisconnect
        + ", hookCache="
        + hookCacheDir
        + ", handshakeTimeoutMs="
        + handshakeTimeoutMillis
        + "]";
  }

  /** Reads the session file named by the agent argument. */
  public static LayerConfig load(String agentArgs) throws LayerConfigException {
    if (agentArgs == null || agentArgs.isBlank()) {
      throw new LayerConfigException(
          "no session file given (expected -javaagent:mirrord-layer-agent.jar=<session file>)",
          null);
    }
    Path file;
    try {
      file = Path.of(agentArgs.trim());
    } catch (InvalidPathException e) {
      throw new LayerConfigException("bad session file path '" + agentArgs + "'", null, e);
    }
    Properties props = new Properties();
    try (InputStream in = new java.io.ByteArrayInputStream(PlainFiles.readAllBytes(file))) {
      props.load(in);
    } catch (java.nio.file.NoSuchFileException e) {
      // the CLI removes the file when its session ends: a JVM started later (an IDE run
      // configuration that kept the session's variables) finds no session
      throw LayerConfigException.noSession(
          "no mirrord session at " + file + ": it has ended (or not started yet); the app runs"
              + " without mirrord");
    } catch (IOException | IllegalArgumentException e) {
      throw new LayerConfigException(
          "cannot read session file " + file + ": " + describe(e), null, e);
    }
    return parse(props, file);
  }

  /** Validates {@code props}, read from {@code file} (named in error messages). */
  public static LayerConfig parse(Properties props, Path file) throws LayerConfigException {
    Parser p = new Parser(props, file);
    Path logFile = p.path("log.file");
    p.logFile = logFile;
    String host = p.required("proxy.host");
    int port = p.port("proxy.port", p.required("proxy.port"));
    String token = p.required("token");
    LayerLog.Level level = p.logLevel("log.level", "info");
    Incoming incoming = p.incoming("incoming.mode", "mirror");
    Map<Integer, Integer> portMap = p.portMap("port.map");
    Set<Integer> ignore = p.portList("ignore.ports");
    boolean tcp = p.bool("outgoing.tcp", true);
    boolean udp = p.bool("outgoing.udp", true);
    boolean dns = p.bool("dns.remote", true);
    OutgoingFilter filter = p.filter("outgoing.filter.local", "outgoing.filter.remote");
    String session = p.optional("session.id", "");
    boolean skipBuildTools = p.bool("skip.build_tools", true);
    List<String> skipJvms = p.list("skip.jvms");
    ResolverFiles resolverFiles =
        dns
            ? new ResolverFiles(
                p.optionalPath("dns.resolv_conf"),
                p.optionalPath("dns.hosts"),
                p.optional("dns.files.problem", null))
            : ResolverFiles.NONE;
    RelaySource relays = p.relaySource("incoming.relay.address", "incoming.relay.ports6");
    OnDisconnect onDisconnect = p.choice("on.disconnect", "exit", OnDisconnect.class);
    String cache = p.optional("hook.cache.dir", null);
    Path hookCache = cache == null ? null : p.path("hook.cache.dir");
    long handshakeTimeout = p.millis("handshake.timeout.ms", DEFAULT_HANDSHAKE_TIMEOUT_MILLIS);
    return new LayerConfig(
        file, host, port, token, logFile, level, incoming, portMap, ignore, tcp, udp, dns, filter,
        session, skipBuildTools, skipJvms, resolverFiles, relays, onDisconnect, hookCache, handshakeTimeout);
  }

  private static String describe(Exception e) {
    String name = e.getClass().getSimpleName();
    return e.getMessage() == null ? name : name + " " + e.getMessage();
  }

  /** Reads keys of one file; every failure names the key and the file. */
  private static final class Parser {
    private final Properties props;
    private final Path file;
    private Path logFile;

    Parser(Properties props, Path file) {
      this.props = props;
      this.file = file;
    }

    LayerConfigException bad(String key, String problem) {
      return new LayerConfigException(
          "session file " + file + ": key '" + key + "' " + problem, logFile);
    }

    String optional(String key, String fallback) {
      String v = props.getProperty(key);
      return v == null || v.isBlank() ? fallback : v.trim();
    }

    String required(String key) throws LayerConfigException {
      String v = props.getProperty(key);
      if (v == null) {
        throw bad(key, "is missing");
      }
      if (v.isBlank()) {
        throw bad(key, "is empty");
      }
      return v.trim();
    }

    Path path(String key) throws LayerConfigException {
      String v = required(key);
      try {
        return Path.of(v);
      } catch (InvalidPathException e) {
        throw bad(key, "is not a valid path: '" + v + "'");
      }
    }

    /** An absolute path, or {@code null} when the key is absent or empty. */
    Path optionalPath(String key) throws LayerConfigException {
      String v = optional(key, null);
      if (v == null) {
        return null;
      }
      try {
        Path path = Path.of(v);
        if (path.isAbsolute()) {
          return path;
        }
      } catch (InvalidPathException e) {
        // reported below
      }
      throw bad(key, "must be an absolute path, got '" + v + "'");
    }

    int port(String key, String v) throws LayerConfigException {
      try {
        int port = Integer.parseInt(v.trim());
        if (port >= 1 && port <= 65535) {
          return port;
        }
      } catch (NumberFormatException ignored) {
        // reported below
      }
      throw bad(key, "must be a TCP port (1-65535), got '" + v.trim() + "'");
    }

    long millis(String key, long fallback) throws LayerConfigException {
      String v = optional(key, null);
      if (v == null) {
        return fallback;
      }
      try {
        long ms = Long.parseLong(v);
        if (ms >= 1) {
          return ms;
        }
      } catch (NumberFormatException ignored) {
        // reported below
      }
      throw bad(key, "must be a number of milliseconds (1 or more), got '" + v + "'");
    }

    boolean bool(String key, boolean fallback) throws LayerConfigException {
      String v = optional(key, null);
      if (v == null) {
        return fallback;
      }
      if (v.equalsIgnoreCase("true")) {
        return true;
      }
      if (v.equalsIgnoreCase("false")) {
        return false;
      }
      throw bad(key, "must be true or false, got '" + v + "'");
    }

    LayerLog.Level logLevel(String key, String fallback) throws LayerConfigException {
      String v = optional(key, fallback);
      LayerLog.Level level = LayerLog.Level.parse(v);
      if (level == null) {
        throw bad(key, "must be one of debug, info, warn, error, got '" + v + "'");
      }
      return level;
    }

    Incoming incoming(String key, String fallback) throws LayerConfigException {
      return choice(key, fallback, Incoming.class);
    }

    /** One of {@code type}'s constants, by its lower-case name. */
    <E extends Enum<E>> E choice(String key, String fallback, Class<E> type) throws LayerConfigException {
      String v = optional(key, fallback);
      try {
        return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        StringBuilder names = new StringBuilder();
        for (E c : type.getEnumConstants()) {
          names.append(names.length() == 0 ? "" : ", ").append(c.name().toLowerCase(Locale.ROOT));
        }
        throw bad(key, "must be one of " + names + ", got '" + v + "'");
      }
    }

    RelaySource relaySource(String addressKey, String ports6Key) throws LayerConfigException {
      String address = optional(addressKey, null);
      if (address == null) {
        return RelaySource.LEGACY;
      }
      int from = 0;
      int to = -1;
      String range = optional(ports6Key, "");
      if (!range.isEmpty()) {
        int dash = range.indexOf('-');
        if (dash < 0) {
          throw bad(ports6Key, "must be <first port>-<last port>, got '" + range + "'");
        }
        from = port(ports6Key, range.substring(0, dash));
        to = port(ports6Key, range.substring(dash + 1));
        if (from > to) {
          throw bad(ports6Key, "must be <first port>-<last port>, got '" + range + "'");
        }
      }
      try {
        return RelaySource.of(address, from, to);
      } catch (IllegalArgumentException e) {
        throw bad(addressKey, e.getMessage());
      }
    }

    Map<Integer, Integer> portMap(String key) throws LayerConfigException {
      Map<Integer, Integer> map = new LinkedHashMap<>();
      for (String entry : optional(key, "").split(",")) {
        String e = entry.trim();
        if (e.isEmpty()) {
          continue;
        }
        int colon = e.indexOf(':');
        if (colon < 0) {
          throw bad(key, "entry '" + e + "' must be <local port>:<remote port>");
        }
        int local = port(key, e.substring(0, colon));
        int remote = port(key, e.substring(colon + 1));
        if (map.putIfAbsent(local, remote) != null) {
          throw bad(key, "maps local port " + local + " twice");
        }
      }
      return map;
    }

    OutgoingFilter filter(String localKey, String remoteKey) throws LayerConfigException {
      java.util.List<String> local = list(localKey);
      java.util.List<String> remote = list(remoteKey);
      try {
        return OutgoingFilter.of(local, remote);
      } catch (IllegalArgumentException e) {
        throw bad(local.isEmpty() ? remoteKey : localKey, e.getMessage());
      }
    }

    /** A comma-separated list; entries are trimmed, empty ones dropped. */
    java.util.List<String> list(String key) {
      java.util.List<String> out = new java.util.ArrayList<>();
      for (String e : optional(key, "").split(",")) {
        if (!e.isBlank()) {
          out.add(e.trim());
        }
      }
      return out;
    }

    Set<Integer> portList(String key) throws LayerConfigException {
      Set<Integer> ports = new LinkedHashSet<>();
      for (String entry : optional(key, "").split(",")) {
        if (!entry.isBlank()) {
          ports.add(port(key, entry));
        }
      }
      return ports;
    }
  }
}
