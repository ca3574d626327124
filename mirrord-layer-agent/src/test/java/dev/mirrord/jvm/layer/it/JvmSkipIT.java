package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.ProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.protocol.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.codehaus.plexus.classworlds.launcher.Launcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A JVM the layer stays out of ({@code skip_build_tools}, {@code skip_jvms}) in a child JVM against
 * FakeAgent: no connection, no hook, one log line; and a JVM whose session has ended.
 */
class JvmSkipIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  @TempDir Path dir;
  private FakeAgent agent;

  @BeforeEach
  void startAgent() {
    agent = FakeAgent.start();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  private ChildJvm.Result run(Path jdk, Path session, Class<?> main, String... args) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    return ChildJvm.run(jdk, session.toString(), List.of(ChildJvm.testClasses()), main, List.of(args), dir);
  }

  private List<String> logLines() throws IOException {
    Path log = dir.resolve("layer.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aJvmMatchingSkipJvmsNeverConnectsAndLogsOneLine(String name, Path jdk) throws Exception {
    Path session = SessionFile.write(dir, agent.port(), Map.of("skip.jvms", "com.example.*, *.ProbeApp"));

    ChildJvm.Result r = run(jdk, session, ProbeApp.class, "0", "0");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).as("nothing on stderr").isEmpty();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("null");
    assertThat(agent.received(Session.Hello.class)).as("no connection to the CLI").isEmpty();
    assertThat(logLines())
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains(" INFO  [pid ")
                    .endsWith(
                        "skipped: " + ProbeApp.class.getName() + " matches skip_jvms '*.ProbeApp';"
                            + " no hooks, no connection; the JVMs it starts get the layer"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void mavensOwnJvmIsSkippedAndExecJavaIsExplainedInOneLine(String name, Path jdk) throws Exception {
    Path session = SessionFile.write(dir, agent.port(), Map.of());

    ChildJvm.Result quiet = run(jdk, session, Launcher.class, "-B", "verify");
    ChildJvm.Result execJava = run(jdk, session, Launcher.class, "compile", "exec:java");

    assertThat(quiet.stdout()).containsExactly("mirrord.layer.connected=null");
    assertThat(quiet.stderr()).isEmpty();
    assertThat(execJava.stdout()).containsExactly("mirrord.layer.connected=null");
    assertThat(execJava.stderr())
        .containsExactly(
            "mirrord: exec:java runs the app inside Maven's own JVM, which mirrord leaves local"
                + " (skip_build_tools): use exec:exec or spring-boot:run, which start the app in a JVM"
                + " of its own, or set \"skip_build_tools\": false");
    assertThat(agent.received(Session.Hello.class)).isEmpty();
    assertThat(logLines())
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("skipped: " + Launcher.class.getName() + " is Maven's own JVM (skip_build_tools)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void javaDashVersionNeverConnects(String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path session = SessionFile.write(dir, agent.port(), Map.of());

    Process p =
        new ProcessBuilder(jdk.resolve("bin/java").toString(), "-javaagent:" + ChildJvm.layerJar() + "=" + session, "-version")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();

    assertThat(out).contains("version").doesNotContain("mirrord");
    assertThat(agent.received(Session.Hello.class)).isEmpty();
    assertThat(logLines()).singleElement().satisfies(l -> assertThat(l).contains("skipped: this JVM runs no main class"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void withSkipBuildToolsFalseMavensJvmGetsTheLayer(String name, Path jdk) throws Exception {
    Path session = SessionFile.write(dir, agent.port(), Map.of("skip.build_tools", "false"));

    ChildJvm.Result r = run(jdk, session, Launcher.class, "exec:java");

    assertThat(r.stdout()).containsExactly("mirrord.layer.connected=true");
    assertThat(r.stderr()).isEmpty();
    assertThat(agent.received(Session.Hello.class)).hasSize(1);
    assertThat(String.join("\n", logLines())).doesNotContain("skipped");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aJvmStartedAfterItsSessionEndedRunsLocallyWithOneLine(String name, Path jdk) throws Exception {
    Path gone = dir.resolve("mirrord-ended/session.properties");

    ChildJvm.Result app = run(jdk, gone, ProbeApp.class, "0", "0");
    ChildJvm.Result maven = run(jdk, gone, Launcher.class, "verify");

    assertThat(app.exitCode()).isZero();
    assertThat(app.value("mirrord.layer.connected")).isEqualTo("null");
    assertThat(app.stderr())
        .containsExactly(
            "mirrord: layer disabled: no mirrord session at " + gone + ": it has ended (or not"
                + " started yet); the app runs without mirrord");
    assertThat(maven.stderr()).as("a build tool stays quiet").isEmpty();
    assertThat(maven.stdout()).containsExactly("mirrord.layer.connected=null");
  }
}
