package dev.mirrord.jvm.layer.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** Runs a tiny app in a child JVM, optionally with the shaded layer attached. */
public final class ChildJvm {
  private ChildJvm() {}

  /** What a child run left behind. */
  public record Result(int exitCode, List<String> stdout, List<String> stderr) {
    /** The value of the first {@code key=value} line of stdout; fails the test if there is none. */
    public String value(String key) {
      return stdout.stream()
          .filter(l -> l.startsWith(key + "="))
          .map(l -> l.substring(key.length() + 1))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no " + key + " in\n" + this));
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + String.join("\n", stdout)
          + "\n--- stderr\n" + String.join("\n", stderr);
    }
  }

  /** The shaded jar under test (set by failsafe; the module's target dir otherwise). */
  public static Path layerJar() {
    return Path.of(System.getProperty("mirrord.layer.jar", "target/mirrord-layer-agent.jar"))
        .toAbsolutePath();
  }

  /** The JDKs every IT runs on: 17 (the oldest supported) and the one running the build (25). */
  public static Stream<Arguments> jdks() {
    Path jdk17 = Path.of(System.getProperty("mirrord.it.jdk17", "/usr/lib/jvm/java-17-openjdk-amd64"));
    Path current = Path.of(System.getProperty("java.home"));
    return Stream.of(
        Arguments.of("jdk17", jdk17), Arguments.of("jdk" + Runtime.version().feature(), current));
  }

  /**
   * The test classes and the jars of an app's own Netty 4.1 with its native epoll transport
   * ({@code mirrord.it.epollLibs}, copied by the build), as a class path.
   */
  public static List<Path> withAppNetty() throws IOException {
    Path libs = Path.of(System.getProperty("mirrord.it.epollLibs", "target/it-epoll-libs"));
    List<Path> cp = new ArrayList<>();
    cp.add(testClasses());
    try (Stream<Path> jars = Files.list(libs)) {
      jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(cp::add);
    }
    return cp;
  }

  /** Test classes (where the apps are), as a class path entry. */
  public static Path testClasses() {
    try {
      return Path.of(ChildJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A child JVM that runs until closed (its output goes to files in the work dir). */
  public static final class Running implements AutoCloseable {
    private final Process process;
    private final Path out;
    private final Path err;

    Running(Process process, Path out, Path err) {
      this.process = process;
      this.out = out;
      this.err = err;
    }

    public Process process() {
      return process;
    }

    /** The stdout lines so far. */
    public List<String> stdout() throws IOException {
      return Files.readAllLines(out, StandardCharsets.UTF_8);
    }

    public List<String> stderr() throws IOException {
      return Files.readAllLines(err, StandardCharsets.UTF_8);
    }

    /** The value of the first {@code key=value} stdout line, waiting up to {@code timeout} for it. */
    public String await(String key, Duration timeout) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (String l : stdout()) {
          if (l.startsWith(key + "=")) {
            return l.substring(key.length() + 1);
          }
        }
        if (System.nanoTime() > deadline || !process.isAlive()) {
          throw new AssertionError("no " + key + " within " + timeout + "\n" + this);
        }
        Thread.sleep(10);
      }
    }

    @Override
    public String toString() {
      try {
        return "--- stdout\n" + String.join("\n", stdout()) + "\n--- stderr\n" + String.join("\n", stderr());
      } catch (IOException e) {
        return e.toString();
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Starts {@code main} as {@link #run} does, without waiting for it. */
  public static Running start(
      Path javaHome, String agentArgs, List<Path> classpath, Class<?> main, List<String> args, Path workDir)
      throws IOException {
    ProcessBuilder pb = builder(layerJar(), javaHome, List.of(), agentArgs, classpath, main, args, workDir);
    return new Running(pb.start(), pb.redirectOutput().file().toPath(), pb.redirectError().file().toPath());
  }

  public static Result run(
      Path javaHome,
      String agentArgs,
      List<Path> classpath,
      Class<?> main,
      List<String> args,
      Path workDir)
      throws IOException, InterruptedException {
    return run(javaHome, List.of(), agentArgs, classpath, main, args, workDir);
  }

  /**
   * Runs {@code main} with {@code jvmArgs}, the layer ({@code -javaagent:<jar>=<agentArgs>}, or
   * none if {@code agentArgs} is null), {@code classpath}, and {@code args}; stdout and stderr go to
   * files in {@code workDir}. Fails if the child runs longer than 60 s.
   */
  public static Result run(
      Path javaHome,
      List<String> jvmArgs,
      String agentArgs,
      List<Path> classpath,
      Class<?> main,
      List<String> args,
      Path workDir)
      throws IOException, InterruptedException {
    return run(layerJar(), javaHome, jvmArgs, agentArgs, classpath, main, args, workDir);
  }

  /** As above, with {@code agentJar} as the layer (e.g. a copy of {@link #layerJar()}). */
  public static Result run(
      Path agentJar,
      Path javaHome,
      List<String> jvmArgs,
      String agentArgs,
      List<Path> classpath,
      Class<?> main,
      List<String> args,
      Path workDir)
      throws IOException, InterruptedException {
    ProcessBuilder pb = builder(agentJar, javaHome, jvmArgs, agentArgs, classpath, main, args, workDir);
    Running r = new Running(pb.start(), pb.redirectOutput().file().toPath(), pb.redirectError().file().toPath());
    if (!r.process.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS)) {
      r.close();
      throw new AssertionError("child JVM did not exit within 60 s: " + pb.command() + "\n" + r);
    }
    return new Result(r.process.exitValue(), r.stdout(), r.stderr());
  }

  private static ProcessBuilder builder(
      Path agentJar,
      Path javaHome,
      List<String> jvmArgs,
      String agentArgs,
      List<Path> classpath,
      Class<?> main,
      List<String> args,
      Path workDir) {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaHome.resolve("bin/java").toString());
    cmd.addAll(jvmArgs);
    if (agentArgs != null) {
      cmd.add("-javaagent:" + agentJar + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
    }
    cmd.add("-cp");
    cmd.add(String.join(File.pathSeparator, classpath.stream().map(Path::toString).toList()));
    cmd.add(main.getName());
    cmd.addAll(args);
    Path out = workDir.resolve("stdout.txt");
    Path err = workDir.resolve("stderr.txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().remove("JDK_JAVA_OPTIONS");
    pb.environment().remove("_JAVA_OPTIONS");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    return pb;
  }
}
