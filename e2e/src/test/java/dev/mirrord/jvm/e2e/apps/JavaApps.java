package dev.mirrord.jvm.e2e.apps;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
