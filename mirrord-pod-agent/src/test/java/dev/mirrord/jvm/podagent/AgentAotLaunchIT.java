package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.jvm.AgentJvmOptions;
import dev.mirrord.jvm.protocol.jvm.AotCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent jar's launch as the CLI makes it ({@link AgentJvmOptions#launchFromJar}: the options
 * file, then {@code -cp <jar> <Main-Class>}) keeps its AOT cache whole: the options that the
 * cache is recorded, created and used with must agree, {@code --enable-native-access} included
 * (which {@code -jar} took from the manifest), or the JVM turns the cache's archived module graph
 * off, and its ahead-of-time linked classes with it — silently, ~200 ms slower.
 */
@Timeout(120)
class AgentAotLaunchIT {
  private static final Path JAR =
      Path.of(System.getProperty("mirrord.agent.jar", "target/mirrord-pod-agent.jar")).toAbsolutePath();
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  @TempDir Path dir;

  @Test
  void theJarsLaunchRecordsCreatesAndUsesItsCacheWithTheArchivedModuleGraph() throws Exception {
    AgentJvmOptions.Launch launch = AgentJvmOptions.launchFromJar(JAR);
    assertThat(launch.mainClass()).isEqualTo(PodAgentMain.class.getName());
    assertThat(launch.options()).contains("--enable-native-access=ALL-UNNAMED");
    assertThat(launch.mainArgs(JAR)).containsExactly("-cp", JAR.toString(), PodAgentMain.class.getName());
    List<String> expected = new ArrayList<>(List.of(JAVA));
    expected.addAll(launch.options());
    expected.add("-Dx=y");
    expected.addAll(launch.mainArgs(JAR));
    assertThat(launch.command(JAVA, List.of("-Dx=y"), JAR)).isEqualTo(expected);

    Path config = dir.resolve("agent.aotconf");
    Path cache = dir.resolve("agent.aot");
    List<String> record = launch.command(JAVA, AotCache.recordFlags(config), JAR);
    record.add("--version");
    assertThat(run(record)).contains("0.");
    run(AotCache.createCommand(Path.of(JAVA), launch.options(), config, cache, JAR));

    List<String> flags = new ArrayList<>(AotCache.useFlags(cache));
    flags.add("-Xlog:aot=info");
    List<String> use = launch.command(JAVA, flags, JAR);
    use.add("--version");
    assertThat(run(use))
        .contains("full module graph: enabled")
        .doesNotContain("Mismatched values")
        .doesNotContain("[error]");
  }

  /**
   * SLF4J's start names its provider ({@code LogbackProvider}, through {@code Slf4jProvider}) instead of looking for
   * one with a {@code ServiceLoader} over the class path, and says nothing on stderr about it.
   */
  @Test
  void slf4jStartsWithTheNamedProviderAndSaysNothing() throws Exception {
    AgentJvmOptions.Launch launch = AgentJvmOptions.launchFromJar(JAR);
    List<String> quiet = launch.command(JAVA, List.of(), JAR);
    quiet.add("--version");
    assertThat(run(quiet)).doesNotContain("SLF4J(");

    // a property the command line sets is kept
    List<String> told = launch.command(JAVA, List.of("-Dslf4j.internal.verbosity=INFO"), JAR);
    told.add("--version");
    assertThat(run(told))
        .contains("SLF4J(I): Attempting to load provider \"dev.mirrord.jvm.protocol.jvm.LogbackProvider\""
            + " specified via \"slf4j.provider\" system property");
  }

  /**
   * Started as the CLI starts it, from a cache recorded over the same start, the agent comes up without opening its
   * fat jar: no lookup of a resource or of a class the cache lacks, each of which reads the jar's whole central
   * directory (~15 ms; logback's configurator search, the JDK's zone rules and selector provider, picocli's Groovy
   * probe did). Its exit does not either: it halts once its command has returned, without Runtime.exit's logging.
   * The training agent's stdin is closed at its start, so that it exits right after READY: its exit waits for its
   * codec warm-up, whose classes the cache would otherwise lack (loaded by the verifier, not yet linked).
   */
  @Test
  void theStartFromItsCacheNeverOpensTheJar() throws Exception {
    AgentJvmOptions.Launch launch = AgentJvmOptions.launchFromJar(JAR);
    Path config = dir.resolve("start.aotconf");
    Path cache = dir.resolve("start.aot");
    Process target = new ProcessBuilder("sleep", "120").start();
    try {
      List<String> record = new ArrayList<>();
      if (java.nio.file.Files.isExecutable(Path.of("/usr/bin/taskset"))) {
        // on one core the main thread's exit overtakes the warm-up thread more often (3 of 4 training runs without
        // the wait, by hand)
        record.addAll(List.of("/usr/bin/taskset", "-c", "0"));
      }
      record.addAll(launch.command(JAVA, AotCache.recordFlags(config), JAR));
      try (RunningAgent agent = RunningAgent.start(record, target.pid(), dir.resolve("record.sock"))) {
        agent.process().getOutputStream().close(); // told to exit at once, its warm-up still running
        agent.awaitReady();
      }
      assertThat(run(AotCache.createCommand(Path.of(JAVA), launch.options(), config, cache, JAR)))
          .as("the cache's creation")
          .doesNotContain("Unlinked class");

      List<String> use = launch.command(JAVA, AotCache.useFlags(cache), JAR);
      try (RunningAgent agent = RunningAgent.start(use, target.pid(), dir.resolve("use.sock"))) {
        agent.awaitReady();
        Thread.sleep(1000); // the warm-up thread's work, after the READY line
        assertThat(agent.openFiles()).as("the agent's open files").isNotEmpty().doesNotContain(JAR.toRealPath());
      }
    } finally {
      target.destroyForcibly();
    }
  }

  /** An agent for {@code --target-pid} on a unix socket, its stdin held open; closing it ends the agent. */
  private record RunningAgent(Process process, java.io.BufferedReader stdout) implements AutoCloseable {
    static RunningAgent start(List<String> java, long targetPid, Path socket) throws IOException {
      List<String> command = new ArrayList<>(java);
      command.addAll(List.of("--target-pid", Long.toString(targetPid), "--listen", "unix:" + socket));
      ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().put("MIRRORD_AGENT_TOKEN", "aot-launch-it");
      Process p = pb.start();
      return new RunningAgent(
          p, new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
    }

    void awaitReady() throws Exception {
      String line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return stdout.readLine();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).get(60, TimeUnit.SECONDS);
      assertThat(line).as("the agent's first line").startsWith("MIRRORD_AGENT_READY ");
    }

    /** What {@code /proc/<pid>/fd} points at. */
    List<Path> openFiles() throws IOException {
      List<Path> files = new ArrayList<>();
      try (var fds = java.nio.file.Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
        for (Path fd : fds.toList()) {
          try {
            files.add(java.nio.file.Files.readSymbolicLink(fd));
          } catch (IOException e) {
            // closed meanwhile
          }
        }
      }
      return files;
    }

    /** Closes stdin (the agent exits, writing its AOT recording if it makes one) and waits for the exit. */
    @Override
    public void close() throws Exception {
      process.getOutputStream().close();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      assertThat(process.exitValue()).as("the agent's exit code").isZero();
    }
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", command, out).isZero();
    return out;
  }
}
