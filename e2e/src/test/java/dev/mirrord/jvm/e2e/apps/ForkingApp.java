package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code ForkingApp}: prints its own {@link ProbeApp} view as {@code parent.*}, then starts a second JVM ({@code
 * <same java> -cp <same classpath> ProbeApp --role child}) with {@link ProcessBuilder} — inheriting the environment,
 * as build tools and app servers do — waits for it, prints {@code parent.child.exit=N} and exits with N.
 */
public final class ForkingApp {
  private ForkingApp() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    ProbeApp.print("parent", List.of());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(
            java, "-cp", System.getProperty("java.class.path"), ProbeApp.class.getName(), "--role", "child")
        .inheritIO()
        .start();
    int code = child.waitFor();
    System.out.println("parent.child.exit=" + code);
    System.exit(code);
  }
}
