package dev.mirrord.jvm.cli.config;

import static dev.mirrord.jvm.cli.config.ConfigEnvVar.*;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Merges the configuration levels: {@link MirrordConfig#DEFAULTS} &lt; config file ({@code -f}, or
 * {@code MIRRORD_CONFIG_FILE}) &lt; {@code MIRRORD_*} variables ({@link ConfigEnvVar}) &lt; flags.
 *
 * <p>Errors in the file or the variables are {@link ExitCode#CONFIG} and name the file or variable,
 * the key and the value. The environment is injected as a map; this class never reads {@code
 * System.getenv}.
 */
public final class ConfigLoader {

  /**
   * The config file's mapper, made when a file is read: building it is 55-65 ms of interpreted
   * Jackson set-up, which a {@code mirrord exec} without a config file (flags and variables only)
   * no longer pays on its way to starting the agent.
   */
  private static final class Json {
    static final ObjectMapper MAPPER =
        JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();
  }

  private final Map<String, String> env;
  private final List<String> warnings = new ArrayList<>();

  public ConfigLoader(Map<String, String> env) {
    this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
  }

  /**
   * The merged configuration.
   *
   * @param configFile the {@code -f} value, or null to use {@code MIRRORD_CONFIG_FILE} if set
   * @param flags what the command line sets (already validated by the command)
   */
  public MirrordConfig load(Path configFile, MirrordConfig flags) {
    MirrordConfig merged = MirrordConfig.DEFAULTS;
    Path file = configFile;
    if (file == null && !blank(env.get(MIRRORD_CONFIG_FILE.name()))) {
      file = Path.of(env.get(MIRRORD_CONFIG_FILE.name()).strip());
    }
    if (file != null) {
      merged = merged.overlay(readFile(file, warnings));
    }
    return merged.overlay(fromEnv()).overlay(flags);
  }

  /** What {@link #load} read but ignored (keys of mirrord's layout we do not implement): one line each. */
  public List<String> warnings() {
    return List.copyOf(warnings);
  }

  /** One config file, validated; fields it does not set are null. */
  public static MirrordConfig readFile(Path file) {
    return readFile(file, new ArrayList<>());
  }

  /**
   * One config file, in our layout or mirrord's ({@link MirrordLayout}), validated; keys of mirrord's
   * layout that are ignored go to {@code warnings}.
   */
  public static MirrordConfig readFile(Path file, List<String> warnings) {
    String name = file.toString();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw configError("config file " + name + " does not exist; check the path given to -f");
    } catch (IOException e) {
      throw configError("cannot read config file " + name + " (" + e.getMessage() + "); check its permissions");
    }
    MirrordConfig cfg;
    JsonNode tree = null;
    try {
      // tree first: syntax errors here, and mapping errors can then show the offending value
      tree = Json.MAPPER.readTree(bytes);
      if (MirrordLayout.applies(tree)) {
        tree = MirrordLayout.translate(tree, warnings);
      }
      if (tree == null || tree.isMissingNode()) {
        cfg = null;
      } else {
        cfg = Json.MAPPER.treeToValue(tree, MirrordConfig.class);
      }
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds() == null
              ? ""
              : " (known: "
                  + e.getKnownPropertyIds().stream()
                      .map(String::valueOf)
                      .collect(Collectors.toCollection(TreeSet::new))
                      .stream()
                      .collect(Collectors.joining(", "))
                  + ")";
      throw configError(
          name + ": unknown key '" + path(e) + "'" + known + "; fix the spelling or remove it");
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw configError(
          name + ": bad value for '" + path(e) + "' (" + cause.getMessage() + "); fix the value");
    } catch (InvalidFormatException e) {
      throw configError(
          name
              + ": bad value for '"
              + path(e)
              + "': '"
              + e.getValue()
              + "' (expected "
              + expected(e.getTargetType())
              + "); fix the value");
    } catch (MismatchedInputException e) {
      String where = path(e).isEmpty() ? "the top level" : "'" + path(e) + "'" + offending(tree, e);
      String expected =
          path(e).isEmpty() ? "a JSON object" : expected(e.getTargetType());
      throw configError(
          name + ": bad value for " + where + " (expected " + expected + "); fix the value");
    } catch (JsonMappingException e) {
      throw configError(
          name + ": bad value for '" + path(e) + "' (" + e.getOriginalMessage() + "); fix the value");
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      String at = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      throw configError(
          name + ": not valid JSON" + at + " (" + firstLine(e.getOriginalMessage()) + "); fix the syntax");
    } catch (IOException e) {
      throw configError("cannot read config file " + name + " (" + e.getMessage() + "); check the file");
    }
    if (cfg == null) {
      throw configError(name + ": the file is empty; write a JSON object, e.g. {\"target\": \"pid/42\"}");
    }
    validate(cfg, key -> name + ": bad value for '" + key + "'");
    if (cfg.skipJvms() != null && cfg.skipProcesses() != null) {
      throw configError(
          name + ": both 'skip_jvms' and its alias 'skip_processes' are set; keep one of them");
    }
    return cfg.withSkipProcessesAsSkipJvms();
  }

  /** The {@code MIRRORD_*} level; fields no variable sets are null. */
  public MirrordConfig fromEnv() {
    String mode = get(MIRRORD_INCOMING_MODE);
    MirrordConfig.IncomingMode incomingMode = null;
    if (mode != null) {
      try {
        incomingMode = MirrordConfig.IncomingMode.parse(mode.toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw envError(MIRRORD_INCOMING_MODE, mode, e.getMessage());
      }
    }
    if (bool(MIRRORD_TCP_STEAL)) {
      if (incomingMode != null && incomingMode != MirrordConfig.IncomingMode.STEAL) {
        throw configError(
            "MIRRORD_TCP_STEAL=true contradicts MIRRORD_INCOMING_MODE="
                + mode
                + "; unset one of them");
      }
      incomingMode = MirrordConfig.IncomingMode.STEAL;
    }
    List<PortMapping> portMap = null;
    String pm = get(MIRRORD_PORT_MAP);
    if (pm != null) {
      portMap = new ArrayList<>();
      for (String item : commaList(pm)) {
        try {
          portMap.add(PortMapping.parse(item));
        } catch (IllegalArgumentException e) {
          throw envError(MIRRORD_PORT_MAP, pm, e.getMessage());
        }
      }
    }
    List<Integer> ignorePorts = null;
    String ip = get(MIRRORD_IGNORE_PORTS);
    if (ip != null) {
      ignorePorts = new ArrayList<>();
      for (String item : commaList(ip)) {
        try {
          ignorePorts.add(PortMapping.parsePort(item, ip));
        } catch (IllegalArgumentException e) {
          throw envError(MIRRORD_IGNORE_PORTS, ip, e.getMessage());
        }
      }
    }
    MirrordConfig.Incoming incoming =
        incomingMode == null && portMap == null && ignorePorts == null
            ? null
            : new MirrordConfig.Incoming(incomingMode, portMap, ignorePorts);
    HttpFilterConfig httpFilter = httpFilterFromEnv();
    if (httpFilter != null) {
      incoming = (incoming == null ? new MirrordConfig.Incoming(null, null, null) : incoming).withHttpFilter(httpFilter);
    }

    boolean noOutgoing = bool(MIRRORD_NO_OUTGOING);
    Boolean tcp = noOutgoing || bool(MIRRORD_NO_TCP_OUTGOING) ? Boolean.FALSE : null;
    Boolean udp = noOutgoing || bool(MIRRORD_NO_UDP_OUTGOING) ? Boolean.FALSE : null;
    MirrordConfig.Outgoing outgoing =
        tcp == null && udp == null ? null : new MirrordConfig.Outgoing(tcp, udp);
    MirrordConfig.Dns dns = bool(MIRRORD_NO_REMOTE_DNS) ? new MirrordConfig.Dns(false) : null;

    Boolean importEnv = bool(MIRRORD_NO_ENV) ? Boolean.FALSE : null;
    List<String> include = get(MIRRORD_ENV_INCLUDE) == null ? null : commaList(get(MIRRORD_ENV_INCLUDE));
    List<String> exclude = get(MIRRORD_ENV_EXCLUDE) == null ? null : commaList(get(MIRRORD_ENV_EXCLUDE));
    MirrordConfig.Env envCfg =
        importEnv == null && include == null && exclude == null
            ? null
            : new MirrordConfig.Env(importEnv, include, exclude);

    MirrordConfig cfg =
        new MirrordConfig(
            get(MIRRORD_TARGET),
            get(MIRRORD_TARGET_NAMESPACE),
            get(MIRRORD_KUBE_CONTEXT),
            incoming,
            outgoing,
            dns,
            envCfg,
            get(MIRRORD_LOG_FILE),
            bool(MIRRORD_VERBOSE) ? Boolean.TRUE : null,
            agentFromEnv(),
            skipBuildToolsFromEnv(),
            skipJvmsFromEnv(),
            null,
            bool(MIRRORD_ACCEPT_INVALID_CERTIFICATES) ? Boolean.TRUE : null,
            layerFromEnv());
    if (cfg.target() != null) {
      try {
        TargetSpec.parse(cfg.target());
      } catch (IllegalArgumentException e) {
        throw envError(MIRRORD_TARGET, cfg.target(), e.getMessage());
      }
    }
    return cfg;
  }

  /** {@code MIRRORD_SKIP_BUILD_TOOLS}: unlike the flag-like variables, {@code false} means false. */
  private Boolean skipBuildToolsFromEnv() {
    String v = get(MIRRORD_SKIP_BUILD_TOOLS);
    if (v == null) {
      return null;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> Boolean.TRUE;
      case "false", "0", "no", "off" -> Boolean.FALSE;
      default -> throw envError(MIRRORD_SKIP_BUILD_TOOLS, v, "expected true or false");
    };
  }

  /** {@code MIRRORD_SKIP_JVMS}, or mirrord's {@code MIRRORD_SKIP_PROCESSES} (comma or ';' list). */
  private List<String> skipJvmsFromEnv() {
    String jvms = get(MIRRORD_SKIP_JVMS);
    String processes = get(MIRRORD_SKIP_PROCESSES);
    if (jvms != null && processes != null) {
      throw configError(
          "both MIRRORD_SKIP_JVMS and its alias MIRRORD_SKIP_PROCESSES are set; unset one of them");
    }
    String list = jvms != null ? jvms : processes;
    return list == null ? null : commaList(list.replace(';', ','));
  }

  /** {@code MIRRORD_HTTP_HEADER_FILTER} / {@code MIRRORD_HTTP_PATH_FILTER}, checked; null if neither is set. */
  private HttpFilterConfig httpFilterFromEnv() {
    String header = get(MIRRORD_HTTP_HEADER_FILTER);
    String path = get(MIRRORD_HTTP_PATH_FILTER);
    if (header == null && path == null) {
      return null;
    }
    ConfigEnvVar var = header != null ? MIRRORD_HTTP_HEADER_FILTER : MIRRORD_HTTP_PATH_FILTER;
    String value = header != null ? header : path;
    if (header != null && path != null) {
      throw configError("MIRRORD_HTTP_HEADER_FILTER and MIRRORD_HTTP_PATH_FILTER are both set; set one (or use"
          + " incoming.http_filter.all_of in the config file)");
    }
    try {
      HttpFilterConfig.regex(value, var.name());
    } catch (IllegalArgumentException e) {
      throw envError(var, value, e.getMessage());
    }
    return new HttpFilterConfig(header, path, null, null, null, null);
  }

  private MirrordConfig.Agent agentFromEnv() {
    Integer timeout = seconds(MIRRORD_AGENT_STARTUP_TIMEOUT, 1, 3600);
    Integer ttl = seconds(MIRRORD_AGENT_TTL, 0, 3600);
    Boolean ephemeral = bool(MIRRORD_AGENT_EPHEMERAL) ? Boolean.TRUE : null;
    Boolean container = bool(MIRRORD_AGENT_CONTAINER) ? Boolean.TRUE : null;
    String image = get(MIRRORD_AGENT_IMAGE);
    String namespace = get(MIRRORD_AGENT_NAMESPACE);
    if (image == null && namespace == null && timeout == null && ephemeral == null && container == null && ttl == null) {
      return null;
    }
    return new MirrordConfig.Agent(image, namespace, timeout, ephemeral, container, ttl);
  }

  /** A variable holding whole seconds in {@code [min, max]}, or null if unset. */
  private Integer seconds(ConfigEnvVar var, int min, int max) {
    String v = get(var);
    if (v == null) {
      return null;
    }
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw envError(var, v, "expected a number of seconds");
    }
    if (n < min || n > max) {
      throw envError(var, v, min + "-" + max + " seconds");
    }
    return n;
  }

  private MirrordConfig.Layer layerFromEnv() {
    String v = get(MIRRORD_LAYER_ON_DISCONNECT);
    if (v == null) {
      return null;
    }
    try {
      return new MirrordConfig.Layer(MirrordConfig.OnDisconnect.parse(v.toLowerCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw envError(MIRRORD_LAYER_ON_DISCONNECT, v, e.getMessage());
    }
  }

  /** Splits a comma list, dropping blanks. */
  public static List<String> commaList(String text) {
    return Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /** Checks what the JSON types cannot: target syntax, port ranges. */
  private static void validate(MirrordConfig cfg, java.util.function.Function<String, String> where) {
    if (cfg.target() != null) {
      try {
        TargetSpec.parse(cfg.target());
      } catch (IllegalArgumentException e) {
        throw configError(where.apply("target") + " (" + e.getMessage() + "); fix the value");
      }
    }
    if (cfg.incoming() != null
        && cfg.incoming().handBackGraceSeconds() != null
        && (cfg.incoming().handBackGraceSeconds() < 0 || cfg.incoming().handBackGraceSeconds() > 3600)) {
      throw new MirrordException(
          ExitCode.CONFIG,
          where.apply("incoming.hand_back_grace_seconds")
              + ": "
              + cfg.incoming().handBackGraceSeconds()
              + " (0-3600 seconds); fix the value");
    }
    if (cfg.agent() != null
        && cfg.agent().startupTimeout() != null
        && (cfg.agent().startupTimeout() < 1 || cfg.agent().startupTimeout() > 3600)) {
      throw configError(
          where.apply("agent.startup_timeout")
              + ": "
              + cfg.agent().startupTimeout()
              + " (1-3600 seconds); fix the value");
    }
    if (cfg.agent() != null && cfg.agent().ttl() != null && (cfg.agent().ttl() < 0 || cfg.agent().ttl() > 3600)) {
      throw configError(where.apply("agent.ttl") + ": " + cfg.agent().ttl() + " (0-3600 seconds); fix the value");
    }
    if (cfg.agent() != null && cfg.agent().image() != null && cfg.agent().image().isBlank()) {
      throw configError(where.apply("agent.image") + ": empty (expected an image reference); fix the value");
    }
    if (cfg.incoming() != null && cfg.incoming().ignorePorts() != null) {
      for (Integer p : cfg.incoming().ignorePorts()) {
        if (p == null || p < 1 || p > 65535) {
          throw configError(
              where.apply("incoming.ignore_ports") + ": " + p + " (ports are 1-65535); fix the value");
        }
      }
    }
    if (cfg.incoming() != null && cfg.incoming().httpFilter() != null) {
      try {
        cfg.incoming().httpFilter().toFilter("incoming.http_filter");
      } catch (IllegalArgumentException e) {
        String[] keyAndWhy = e.getMessage().split(": ", 2);
        throw configError(where.apply(keyAndWhy[0]) + ": " + keyAndWhy[keyAndWhy.length - 1] + "; fix the value");
      }
    }
    if (cfg.incoming() != null && hasNull(cfg.incoming().portMap())) {
      throw configError(where.apply("incoming.port_map") + ": null (expected \"LOCAL:REMOTE\"); fix the value");
    }
    if (cfg.outgoing() != null && cfg.outgoing().filter() != null) {
      MirrordConfig.Filter f = cfg.outgoing().filter();
      String key = f.local().isEmpty() ? "outgoing.filter.remote" : "outgoing.filter.local";
      try {
        dev.mirrord.jvm.protocol.OutgoingFilter.of(f.local(), f.remote());
      } catch (IllegalArgumentException e) {
        throw configError(where.apply(key) + ": " + e.getMessage() + "; fix the value");
      } catch (NullPointerException e) {
        throw configError(where.apply(key) + ": null in the list; remove it");
      }
    }
    for (var skip : Arrays.asList(cfg.skipJvms(), cfg.skipProcesses())) {
      if (hasNull(skip) || (skip != null && skip.stream().anyMatch(g -> g != null && g.isBlank()))) {
        throw configError(
            where.apply(skip == cfg.skipJvms() ? "skip_jvms" : "skip_processes")
                + ": an empty or null glob; remove it");
      }
    }
    if (cfg.env() != null) {
      for (var list : Arrays.asList(cfg.env().include(), cfg.env().exclude())) {
        if (hasNull(list)) {
          throw configError(where.apply("env") + ": null in a glob list; remove it");
        }
      }
    }
  }

  private static boolean hasNull(List<?> list) {
    return list != null && list.stream().anyMatch(Objects::isNull);
  }

  private String get(ConfigEnvVar var) {
    String v = env.get(var.name());
    return blank(v) ? null : v.strip();
  }

  private boolean bool(ConfigEnvVar var) {
    String v = get(var);
    if (v == null) {
      return false;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw envError(var, v, "expected true or false");
    };
  }

  private static MirrordException envError(ConfigEnvVar var, String value, String why) {
    return configError(
        "bad value in environment variable " + var.name() + "='" + value + "' (" + why + "); fix or unset it");
  }

  private static MirrordException configError(String message) {
    return new MirrordException(ExitCode.CONFIG, message);
  }

  /** Dotted JSON path of a mapping error, e.g. {@code incoming.mode}. */
  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!sb.isEmpty()) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /** {@code : 'value'} for the scalar at the error's path in {@code tree}, or "". */
  private static String offending(JsonNode tree, JsonMappingException e) {
    if (tree == null) {
      return "";
    }
    JsonNode node = tree;
    for (JsonMappingException.Reference ref : e.getPath()) {
      node = ref.getFieldName() != null ? node.path(ref.getFieldName()) : node.path(ref.getIndex());
    }
    return node.isValueNode() ? ": '" + node.asText() + "'" : "";
  }

  private static String expected(Class<?> type) {
    if (type == null) {
      return "another value";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == Integer.class || type == int.class) {
      return "a number";
    }
    if (type == String.class) {
      return "a string";
    }
    if (List.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (type == MirrordConfig.IncomingMode.class) {
      return "mirror, steal or off";
    }
    if (type == MirrordConfig.OnDisconnect.class) {
      return "exit or continue";
    }
    if (type == PortMapping.class) {
      return "\"LOCAL:REMOTE\"";
    }
    if (type.isRecord()) {
      return "an object";
    }
    return type.getSimpleName();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "syntax error";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
