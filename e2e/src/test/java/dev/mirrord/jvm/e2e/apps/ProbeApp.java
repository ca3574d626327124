package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ProbeApp [--role R] [--exit N] [--env NAME,NAME…]}: prints what a JVM started under {@code mirrord exec}
 * sees, one {@code R.<key>=<value>} line each (R defaults to {@code probe}), then exits with N (default 0):
 *
 * <pre>
 *   probe.java.specification.version=17
 *   probe.mirrord.layer.connected=true           (system properties the layer sets; {@code <unset>} if absent)
 *   probe.mirrord.target.netns=4026532245
 *   probe.mirrord.target.pid=5121
 *   probe.mirrord.target.hostname=pod
 *   probe.netns.self=4026531833                  (the namespace the app itself runs in: it stays local)
 *   probe.env.POD_NAME=pod                       (one per --env name; {@code <unset>} if absent)
 * </pre>
 *
 * Only these lines go to stdout, so tests can assert that mirrord adds nothing to the app's output.
 */
public final class ProbeApp {
  /** The system properties the mirrord layer publishes once it is connected. */
  public static final List<String> LAYER_PROPERTIES =
      List.of("mirrord.layer.connected", "mirrord.target.netns", "mirrord.target.pid", "mirrord.target.hostname");

  public static final String UNSET = "<unset>";

  private ProbeApp() {}

  public static void main(String[] args) {
    String role = "probe";
    int exit = 0;
    List<String> env = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--role" -> role = value;
        case "--exit" -> exit = Integer.parseInt(value);
        case "--env" -> env.addAll(List.of(value.split(",")));
        default -> {
          System.err.println("usage: ProbeApp [--role R] [--exit N] [--env NAME,NAME...]");
          System.exit(2);
        }
      }
      i++;
    }
    print(role, env);
    System.exit(exit);
  }

  /** Prints the probe lines for {@code role} (used by the other apps for their own view). */
  static void print(String role, List<String> envNames) {
    StringBuilder out = new StringBuilder();
    line(out, role, "java.specification.version", System.getProperty("java.specification.version"));
    for (String p : LAYER_PROPERTIES) {
      line(out, role, p, System.getProperty(p, UNSET));
    }
    line(out, role, "netns.self", selfNetns());
    for (String name : envNames) {
      String v = System.getenv(name);
      line(out, role, "env." + name, v == null ? UNSET : v);
    }
    System.out.print(out);
    System.out.flush();
  }

  private static void line(StringBuilder out, String role, String key, String value) {
    out.append(role).append('.').append(key).append('=').append(value).append('\n');
  }

  /** The inode of this process's network namespace, from the {@code net:[N]} link. */
  private static String selfNetns() {
    try {
      String link = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
      return link.replaceAll("\\D", "");
    } catch (IOException | UnsupportedOperationException e) {
      return UNSET;
    }
  }
}
