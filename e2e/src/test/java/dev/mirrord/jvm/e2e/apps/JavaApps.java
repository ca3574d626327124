package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Command lines that start a test main in a child JVM (this JVM's java, the e2e test classes as classpath). */
public final class JavaApps {
  private JavaApps() {}

  /** {@code <java> -cp <e2e test classes> <main> args...}; prefix it with {@code ip netns exec} (or use NetnsLab#exec). */
  public static List<String> command(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaExecutable().toString());
    cmd.add("-Xshare:auto");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(testClasses().toString());
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * {@code <JDK 17 java> -cp <e2e test classes> <main> args...}: the apps are compiled for 17 (the layer's floor), and
   * tests run them on 17 to prove the layer works there.
   */
  public static List<String> command17(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java17().toString());
    cmd.add("-cp");
    cmd.add(testClasses().toString());
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * Like {@link #command17}, with the third-party jars of the e2e module on the classpath too ({@link
   * #appClasspath()}): for apps that use real client libraries (PostgreSQL driver, Jedis, Netty), e.g. {@link
   * OutgoingApp}.
   */
  public static List<String> libraryCommand17(Class<?> main, String... args) {
    return libraryCommand(java17(), main, args);
  }

  /** Like {@link #libraryCommand17} with the {@code java} executable {@code java}. */
  public static List<String> libraryCommand(Path java, Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.add("-cp");
    cmd.add(appClasspath());
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * The e2e test classes plus every third-party test jar (not our module jars), as listed in {@code
   * target/app-classpath.txt} by the dependency plugin at {@code generate-test-resources} (the test JVM's own class
   * path may be a manifest-only jar).
   *
   * @throws IllegalStateException if that file is missing (build the module with Maven first)
   */
  public static String appClasspath() {
    Path list = testClasses().resolveSibling("app-classpath.txt");
    try {
      String jars = Files.readString(list).strip();
      return jars.isEmpty() ? testClasses().toString() : testClasses() + java.io.File.pathSeparator + jars;
    } catch (IOException e) {
      throw new IllegalStateException("no " + list + " (written by `mvn -pl e2e generate-test-resources`): " + e, e);
    }
  }

  /**
   * A JDK 17 {@code java}: {@code MIRRORD_E2E_JAVA17} if set, else Debian's {@code
   * /usr/lib/jvm/java-17-openjdk-amd64}, else the first {@code /usr/lib/jvm/*17*}.
   *
   * @throws IllegalStateException if there is none
   */
  public static Path java17() {
    String configured = System.getenv("MIRRORD_E2E_JAVA17");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path debian = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    if (Files.isExecutable(debian)) {
      return debian;
    }
    try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
      return jvms.filter(d -> d.getFileName().toString().contains("17"))
          .map(d -> d.resolve("bin/java"))
          .filter(Files::isExecutable)
          .sorted()
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no JDK 17 under /usr/lib/jvm; set MIRRORD_E2E_JAVA17"));
    } catch (IOException e) {
      throw new IllegalStateException("no JDK 17 (" + e + "); set MIRRORD_E2E_JAVA17", e);
    }
  }

  public static Path javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  /** The directory (target/test-classes) these classes were loaded from. */
  public static Path testClasses() {
    try {
      return Path.of(JavaApps.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
