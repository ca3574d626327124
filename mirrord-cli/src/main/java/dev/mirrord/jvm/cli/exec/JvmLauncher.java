package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.PortMapping;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Builds the user's process: the command as given, the local environment plus the imported target
 * environment, and {@code JAVA_TOOL_OPTIONS} extended with {@code -javaagent:<layer jar>=<session
 * file>} so that every JVM the command starts (directly or as a grandchild) loads the layer.
 */
public final class JvmLauncher {

  /** Launchers that start a JVM themselves even though their name is not {@code java}. */
  private static final Set<String> JVM_TOOLS =
      Set.of(
          "java", "mvn", "mvnw", "mvnd", "gradle", "gradlew", "sbt", "jshell", "jbang", "kotlin",
          "scala", "groovy", "ant", "lein", "clojure", "clj");

  private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh", "ksh");

  /** Wrappers that run the rest of the command line. */
  private static final Set<String> WRAPPERS = Set.of("env", "nohup", "time", "nice", "stdbuf");

  private JvmLauncher() {}

  /** Everything needed to start the user's command. */
  public record LaunchPlan(List<String> command, Map<String, String> environment) {
    public LaunchPlan {
      command = List.copyOf(command);
      environment = Map.copyOf(environment);
    }

    /** {@code inheritIO}: the app owns the terminal's stdin/stdout/stderr. */
    public ProcessBuilder processBuilder() {
      ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
      pb.environment().clear();
      pb.environment().putAll(environment);
      return pb;
    }
  }

  /**
   * The child's environment: {@code localEnv}, overlaid with the already filtered {@code
   * importedEnv}, with {@code JAVA_TOOL_OPTIONS} = the user's local value + the layer's {@code
   * -javaagent}.
   */
  public static LaunchPlan plan(
      List<String> command,
      Map<String, String> localEnv,
      Map<String, String> importedEnv,
      Path layerJar,
      Path sessionFile) {
    Map<String, String> env = new HashMap<>(localEnv);
    env.putAll(importedEnv);
    env.put(
        "JAVA_TOOL_OPTIONS",
        javaToolOptions(localEnv.get("JAVA_TOOL_OPTIONS"), layerJar, sessionFile));
    return new LaunchPlan(command, env);
  }

  /**
   * What a JVM started outside mirrord ({@code mirrord session}: an IDE run configuration, a second
   * terminal) needs to join the session: {@code JAVA_TOOL_OPTIONS} (the user's local value + the
   * layer) first, then the already filtered {@code importedEnv} in name order. The rest of the
   * local environment is the IDE's own business.
   */
  public static Map<String, String> sessionEnvironment(
      Map<String, String> localEnv, Map<String, String> importedEnv, Path layerJar, Path sessionFile) {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    env.put(
        "JAVA_TOOL_OPTIONS",
        javaToolOptions(localEnv.get("JAVA_TOOL_OPTIONS"), layerJar, sessionFile));
    new java.util.TreeMap<>(importedEnv).forEach(env::putIfAbsent);
    return env;
  }

  /**
   * {@code <user value> -javaagent:<jar>=<session file>}. The option is double-quoted when the jar
   * path has whitespace (the JVM splits {@code JAVA_TOOL_OPTIONS} on whitespace, honouring quotes).
   */
  public static String javaToolOptions(String userValue, Path layerJar, Path sessionFile) {
    String agent = "-javaagent:" + layerJar.toAbsolutePath() + "=" + sessionFile.toAbsolutePath();
    if (agent.chars().anyMatch(Character::isWhitespace)) {
      agent = "\"" + agent + "\"";
    }
    String user = userValue == null ? "" : userValue.strip();
    return user.isEmpty() ? agent : user + " " + agent;
  }

  /**
   * Whether the command looks like it starts a JVM: {@code java} (or {@code …/java}), a JVM build
   * tool or REPL, a {@code .jar} argument, or a shell {@code -c} script that mentions java, a jar or
   * a JVM tool. {@code env}, {@code nohup}, {@code time} and {@code VAR=value} prefixes are skipped.
   */
  public static boolean looksLikeJvm(List<String> command) {
    int i = 0;
    while (i < command.size()) {
      String word = command.get(i);
      String base = baseName(word);
      if (WRAPPERS.contains(base) || (i > 0 && isAssignmentOrOption(word) && isWrapped(command))) {
        i++;
        continue;
      }
      break;
    }
    if (i >= command.size()) {
      return false;
    }
    List<String> rest = command.subList(i, command.size());
    String base = baseName(rest.get(0));
    if (JVM_TOOLS.contains(base) || isJvmTool(base)) {
      return true;
    }
    if (rest.stream().anyMatch(w -> w.toLowerCase(Locale.ROOT).endsWith(".jar"))) {
      return true;
    }
    if (SHELLS.contains(base)) {
      int c = rest.indexOf("-c");
      if (c >= 0 && c + 1 < rest.size()) {
        return mentionsJvm(rest.get(c + 1));
      }
    }
    return false;
  }

  /** Session properties for the layer (keys: see the shared contract / docs). */
  public static Properties sessionProperties(
      String sessionId,
      int proxyPort,
      String token,
      Path layerLog,
      MirrordConfig config) {
    Properties p = new Properties();
    p.setProperty("session.id", sessionId);
    p.setProperty("proxy.host", "127.0.0.1");
    p.setProperty("proxy.port", Integer.toString(proxyPort));
    p.setProperty("token", token);
    p.setProperty("log.file", layerLog.toAbsolutePath().toString());
    p.setProperty("log.level", config.isVerbose() ? "debug" : "info");
    MirrordConfig.Incoming in = config.incoming();
    p.setProperty("incoming.mode", in.mode().wireName());
    p.setProperty(
        "port.map", in.portMap().stream().map(PortMapping::toString).collect(Collectors.joining(",")));
    p.setProperty(
        "ignore.ports", in.ignorePorts().stream().map(String::valueOf).collect(Collectors.joining(",")));
    p.setProperty("outgoing.tcp", Boolean.toString(config.outgoing().tcp()));
    p.setProperty("outgoing.udp", Boolean.toString(config.outgoing().udp()));
    p.setProperty("dns.remote", Boolean.toString(config.dns().remote()));
    p.setProperty("skip.build_tools", Boolean.toString(config.skipsBuildTools()));
    p.setProperty("skip.jvms", String.join(",", config.skipJvmGlobs()));
    MirrordConfig.Filter filter = config.outgoing().filterOrEmpty();
    if (!filter.local().isEmpty()) {
      p.setProperty("outgoing.filter.local", String.join(",", filter.local()));
    }
    if (!filter.remote().isEmpty()) {
      p.setProperty("outgoing.filter.remote", String.join(",", filter.remote()));
    }
    p.setProperty("on.disconnect", config.layerOrDefault().exits() ? "exit" : "continue");
    return p;
  }

  private static boolean mentionsJvm(String script) {
    String s = script.toLowerCase(Locale.ROOT);
    if (s.contains("java") || s.contains(".jar")) {
      return true;
    }
    for (String tool : JVM_TOOLS) {
      if (s.matches("(?s).*(^|[\\s/;&|(])" + java.util.regex.Pattern.quote(tool) + "($|[\\s;&|)]).*")) {
        return true;
      }
    }
    return false;
  }

  private static boolean isJvmTool(String base) {
    // java, javaw, java.exe-style names, versioned wrappers like ./mvnw.cmd
    return base.equals("java") || base.startsWith("mvnw") || base.startsWith("gradlew");
  }

  private static boolean isWrapped(List<String> command) {
    return WRAPPERS.contains(baseName(command.get(0)));
  }

  private static boolean isAssignmentOrOption(String word) {
    return word.startsWith("-") || word.matches("[A-Za-z_][A-Za-z0-9_]*=.*");
  }

  private static String baseName(String word) {
    int slash = word.lastIndexOf('/');
    return slash >= 0 ? word.substring(slash + 1) : word;
  }
}
