package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Decides which of the target's environment variables the app gets. A variable is imported when it
 * matches an include glob (or there are none), matches no exclude glob, and is not in {@link
 * #NEVER_IMPORTED}: those describe the local machine and the local JVM launch (a target's {@code
 * JAVA_TOOL_OPTIONS} or {@code PATH} would break the local app or drop the mirrord layer).
 * Globs: {@code *} matches any run of characters, {@code ?} one character; case-sensitive.
 */
public final class EnvFilter {

  /** Variables that always stay local, whatever include says. */
  public static final List<String> NEVER_IMPORTED =
      List.of(
          "JAVA_TOOL_OPTIONS",
          "_JAVA_OPTIONS",
          "JDK_JAVA_OPTIONS",
          "JAVA_HOME",
          "CLASSPATH",
          "PATH",
          "HOME",
          "HOSTNAME",
          "PWD",
          "MIRRORD_*");

  private static final List<Pattern> NEVER = compile(NEVER_IMPORTED);

  private final List<Pattern> include;
  private final List<Pattern> exclude;

  public EnvFilter(List<String> include, List<String> exclude) {
    this.include = compile(Objects.requireNonNull(include, "include"));
    this.exclude = compile(Objects.requireNonNull(exclude, "exclude"));
  }

  /** The filter for a merged config ({@code import=false} is handled by the caller). */
  public static EnvFilter of(MirrordConfig.Env env) {
    return new EnvFilter(
        env.include() == null ? List.of() : env.include(),
        env.exclude() == null ? List.of() : env.exclude());
  }

  public boolean imports(String name) {
    if (matchesAny(NEVER, name) || matchesAny(exclude, name)) {
      return false;
    }
    return include.isEmpty() || matchesAny(include, name);
  }

  /** The imported subset of the target's environment, sorted by name. */
  public Map<String, String> filter(Map<String, String> targetEnv) {
    Map<String, String> out = new TreeMap<>();
    targetEnv.forEach(
        (k, v) -> {
          if (k != null && v != null && imports(k)) {
            out.put(k, v);
          }
        });
    return out;
  }

  /** Whether {@code name} matches {@code glob}. */
  public static boolean globMatches(String glob, String name) {
    return toPattern(glob).matcher(name).matches();
  }

  private static boolean matchesAny(List<Pattern> patterns, String name) {
    for (Pattern p : patterns) {
      if (p.matcher(name).matches()) {
        return true;
      }
    }
    return false;
  }

  private static List<Pattern> compile(List<String> globs) {
    return globs.stream().map(String::strip).filter(g -> !g.isEmpty()).map(EnvFilter::toPattern).toList();
  }

  private static Pattern toPattern(String glob) {
    StringBuilder re = new StringBuilder();
    StringBuilder literal = new StringBuilder();
    for (char c : glob.toCharArray()) {
      if (c == '*' || c == '?') {
        if (!literal.isEmpty()) {
          re.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        re.append(c == '*' ? ".*" : ".");
      } else {
        literal.append(c);
      }
    }
    if (!literal.isEmpty()) {
      re.append(Pattern.quote(literal.toString()));
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }
}
