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

    Path config = dir.resolve("agent.aotconf");
    Path cache = dir.resolve("agent.aot");
    List<String> record = new ArrayList<>(List.of(JAVA));
    record.addAll(launch.options());
    record.addAll(AotCache.recordFlags(config));
    record.addAll(launch.mainArgs(JAR));
    record.add("--version");
    assertThat(run(record)).contains("0.");
    run(AotCache.createCommand(Path.of(JAVA), launch.options(), config, cache, JAR));

    List<String> use = new ArrayList<>(List.of(JAVA));
    use.addAll(launch.options());
    use.addAll(AotCache.useFlags(cache));
    use.add("-Xlog:aot=info");
    use.addAll(launch.mainArgs(JAR));
    use.add("--version");
    assertThat(run(use))
        .contains("full module graph: enabled")
        .doesNotContain("Mismatched values")
        .doesNotContain("[error]");
  }

  /**
   * SLF4J's start names its provider ({@code Slf4jProvider}) instead of looking for one with a
   * {@code ServiceLoader} over the class path, and says nothing on stderr about it.
   */
  @Test
  void slf4jStartsWithTheNamedProviderAndSaysNothing() throws Exception {
    AgentJvmOptions.Launch launch = AgentJvmOptions.launchFromJar(JAR);
    List<String> quiet = new ArrayList<>(List.of(JAVA));
    quiet.addAll(launch.options());
    quiet.addAll(launch.mainArgs(JAR));
    quiet.add("--version");
    assertThat(run(quiet)).doesNotContain("SLF4J(");

    List<String> told = new ArrayList<>(List.of(JAVA));
    told.addAll(launch.options());
    told.add("-Dslf4j.internal.verbosity=INFO"); // a property the command line sets is kept
    told.addAll(launch.mainArgs(JAR));
    told.add("--version");
    assertThat(run(told))
        .contains("SLF4J(I): Attempting to load provider \"ch.qos.logback.classic.spi.LogbackServiceProvider\""
            + " specified via \"slf4j.provider\" system property");
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", command, out).isZero();
    return out;
  }
}
