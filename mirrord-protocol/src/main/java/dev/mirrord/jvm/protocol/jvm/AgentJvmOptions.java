package dev.mirrord.jvm.protocol.jvm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

/**
 * The pod agent's JVM options, kept in one file inside the agent jar ({@value #RESOURCE}, source
 * {@code mirrord-pod-agent/src/main/resources/}) so that every way the agent starts uses the same:
 * the CLI's {@code LocalAgentLauncher} ({@code pid/N}), the agent's own re-exec under {@code nsenter}
 * (Kubernetes), and the image's entry point, which passes the file to {@code java} as an argument
 * file ({@code java @/opt/mirrord/agent.jvm.options -cp … PodAgentMain}). The format is that of a {@code java}
 * argument file without quotes: one option per line, blank lines and lines starting with {@code #}
 * ignored.
 */
public final class AgentJvmOptions {
  /**
   * The agent process's environment beside its JVM options: glibc's malloc with at most two arenas
   * ({@code MALLOC_ARENA_MAX}), not one per thread up to eight per core. The JIT's arenas and
   * Netty's direct chunks are malloc'ed by many threads; with fewer arenas an agent is back at
   * 63 MiB RSS 3 s after a steal load, against 64–66 MiB (docs/PERFORMANCE.md, "Agent footprint").
   * The CLI sets it for a local agent (unless its own environment has one), the image for the
   * others; never for the app.
   */
  public static final Map<String, String> ENVIRONMENT = Map.of("MALLOC_ARENA_MAX", "2");

  /** Where the options are inside the agent jar (and its class path). */
  public static final String RESOURCE = "META-INF/mirrord/agent.jvm.options";

  private AgentJvmOptions() {}

  /**
   * How to start an agent jar: its JVM options and its main class (the manifest's {@code
   * Main-Class}; null without one).
   */
  public record Launch(List<String> options, String mainClass) {
    public Launch {
      options = List.copyOf(options);
    }

    /**
     * What follows the options on the {@code java} command line: {@code -cp <jar> <main class>}, so
     * that the launcher does not open the jar to read its manifest (a second scan of its central
     * directory: docs/PERFORMANCE.md, "the jars' launch without their manifests"); {@code -jar
     * <jar>} for a jar without a main class in its manifest. The manifest's {@code
     * Enable-Native-Access} only counts with {@code -jar}: the agent's options file has it as {@code
     * --enable-native-access}.
     */
    public List<String> mainArgs(Path jar) {
      String path = jar.toAbsolutePath().toString();
      return mainClass == null ? List.of("-jar", path) : List.of("-cp", path, mainClass);
    }

    /**
     * The whole command that starts the agent jar {@code jar}: {@code <java> <its options> <flags>
     * <mainArgs>}, where {@code flags} are this start's own (its AOT cache's, say).
     */
    public List<String> command(String java, List<String> flags, Path jar) {
      List<String> cmd = new ArrayList<>();
      cmd.add(java);
      cmd.addAll(options);
      cmd.addAll(flags);
      cmd.addAll(mainArgs(jar));
      return cmd;
    }
  }

  /** The options in {@code text}. */
  public static List<String> parse(String text) {
    List<String> options = new ArrayList<>();
    for (String line : text.split("\n")) {
      String option = line.strip();
      if (!option.isEmpty() && !option.startsWith("#")) {
        options.add(option);
      }
    }
    return List.copyOf(options);
  }

  /** The options and the main class of the agent jar {@code jar}, read with one opening of the jar. */
  public static Launch launchFromJar(Path jar) throws IOException {
    try (JarFile f = new JarFile(jar.toFile())) {
      Manifest manifest = f.getManifest();
      String mainClass =
          manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
      ZipEntry e = f.getEntry(RESOURCE);
      if (e == null) {
        return new Launch(List.of(), mainClass);
      }
      try (InputStream in = f.getInputStream(e)) {
        return new Launch(parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)), mainClass);
      }
    }
  }

  /** The options on this JVM's class path (the running agent's own jar); none if absent. */
  public static List<String> fromClassPath() throws IOException {
    try (InputStream in = AgentJvmOptions.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      return in == null ? List.of() : parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }
}
