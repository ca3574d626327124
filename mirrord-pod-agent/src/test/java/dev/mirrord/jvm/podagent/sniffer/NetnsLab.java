package dev.mirrord.jvm.podagent.sniffer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces named {@code mjs<hex><suffix>} and the child processes started in them; {@link
 * #close()} kills the children and deletes the namespaces, whatever happened.
 */
final class NetnsLab implements AutoCloseable {
  private final String prefix =
      "mjs" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  private final List<String> namespaces = new ArrayList<>();
  private final List<Child> children = new ArrayList<>();

  /** A namespace with {@code lo} up. */
  String addNamespace(String suffix) throws IOException, InterruptedException {
    String name = prefix + suffix;
    run("ip", "netns", "add", name);
    namespaces.add(name);
    run("ip", "-n", name, "link", "set", "lo", "up");
    return name;
  }

  /** A veth pair {@code eth0}/{@code eth0} between two namespaces, addressed and up. */
  void connect(String a, String addressA, String b, String addressB)
      throws IOException, InterruptedException {
    run("ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b);
    run("ip", "-n", a, "addr", "add", addressA, "dev", "eth0");
    run("ip", "-n", b, "addr", "add", addressB, "dev", "eth0");
    run("ip", "-n", a, "link", "set", "eth0", "up");
    run("ip", "-n", b, "link", "set", "eth0", "up");
  }

  /** This test JVM's java running {@code mainClass} inside {@code namespace}. */
  Child startJava(String namespace, Class<?> mainClass, String... args) throws IOException {
    return startJava(namespace, List.of(), mainClass, args);
  }

  /** As {@link #startJava(String, Class, String...)}, with JVM options {@code jvmArgs}. */
  Child startJava(String namespace, List<String> jvmArgs, Class<?> mainClass, String... args)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                namespace,
                ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED"));
    command.addAll(jvmArgs);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    Path stderr = Files.createTempFile(prefix + "-", ".stderr");
    Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    Child child = new Child(process, stderr);
    children.add(child);
    return child;
  }

  static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }

  @Override
  public void close() {
    for (Child child : children) {
      child.kill();
    }
    for (String namespace : namespaces) {
      try {
        run("ip", "netns", "del", namespace);
      } catch (IOException | InterruptedException e) {
        System.err.println("could not delete netns " + namespace + ": " + e);
      }
    }
  }

  /** A child process whose stdout lines are queued as they come. */
  static final class Child {
    final Process process;
    final Path stderr;

    /** child stdout --lines--> test */
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    final List<String> seen = new ArrayList<>();

    Child(Process process, Path stderr) {
      this.process = process;
      this.stderr = stderr;
      Thread.ofPlatform()
          .daemon()
          .name("child-stdout-" + process.pid())
          .start(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                  }
                } catch (IOException ignored) {
                  // the process was killed
                }
              });
    }

    /** The next line starting with {@code prefix}, or fails after {@code seconds}. */
    String await(String prefix, int seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null) {
          seen.add(line);
          if (line.startsWith(prefix)) {
            return line;
          }
        }
      }
      throw new AssertionError(
          "no '"
              + prefix
              + "' line within "
              + seconds
              + " s; stdout so far "
              + seen
              + "; stderr:\n"
              + stderrText());
    }

    String stderrText() {
      try {
        return Files.readString(stderr);
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    }

    void kill() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(stderr);
      } catch (InterruptedException | IOException e) {
        // best effort
      }
    }
  }
}
