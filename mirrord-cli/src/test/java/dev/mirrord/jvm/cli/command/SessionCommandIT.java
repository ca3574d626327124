package dev.mirrord.jvm.cli.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.launch.FakeAgentCommands;
import dev.mirrord.jvm.cli.launch.FakePodAgent;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import dev.mirrord.jvm.cli.proxy.TestLayer;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mirrord session --target pid/<this JVM>} in-process, with {@link FakePodAgent} as a real
 * agent process: the environment it hands out, layers joining it at once and one after another, and
 * its end (stopped, or its agent gone) with the same clean-up as {@code exec}.
 */
class SessionCommandIT {

  @TempDir Path tmp;
  Path layerJar;
  Path envFile;
  final String self = "pid/" + ProcessHandle.current().pid();
  Running running;

  @BeforeEach
  void setUp() throws IOException {
    layerJar = Files.writeString(tmp.resolve("dummy-layer.jar"), "dummy");
    envFile = tmp.resolve("ide/session.env");
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (running != null) {
      running.thread.interrupt();
      running.thread.join(20_000);
    }
  }

  /** One {@code mirrord …} running in a thread, with its stdout and stderr. */
  record Running(Thread thread, StringWriter out, StringWriter err, AtomicInteger code) {
    List<String> errLines() {
      return err.toString().lines().toList();
    }
  }

  Running start(String... args) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet().removeIf(k -> k.startsWith("MIRRORD_"));
    env.put("MIRRORD_LAYER_JAR", layerJar.toString());
    env.put("MIRRORD_LOG_FILE", tmp.resolve("cli.log").toString());
    env.put("JAVA_TOOL_OPTIONS", "-Dfrom.user=1");
    CliEnvironment environment =
        CliEnvironment.system()
            .withEnv(env)
            .withSystemProperties(Map.of())
            .withTmpDir(tmp)
            .withForwardSignals(false)
            .withAgentLaunchers(
                (target, e) ->
                    new LocalAgentLauncher(
                        Path.of("/proc"), () -> true, FakeAgentCommands.fakePodAgent(), Duration.ofSeconds(20)));
    CommandLine cmd = MirrordCommand.newCommandLine(environment);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    AtomicInteger code = new AtomicInteger(-1);
    Thread t = new Thread(() -> code.set(cmd.execute(args)), "mirrord-session-under-test");
    t.start();
    running = new Running(t, out, err, code);
    await("the session is up")
        .atMost(Duration.ofSeconds(30))
        .until(() -> running.err.toString().contains(" is up for ") || !t.isAlive());
    assertThat(t.isAlive()).as("session still running:\n%s", err).isTrue();
    return running;
  }

  @Test
  void handsOutTheEnvironmentLetsJvmsJoinAtOnceAndOneAfterAnotherThenCleansUp() throws Exception {
    Running r =
        start("session", "--target", self, "--env-file", envFile.toString(), "--print-env", "json",
            "--env-exclude", "SECRET_*", "--skip-jvms", "com.example.*");

    List<String> lines = Files.readAllLines(envFile);
    assertThat(lines.get(0)).startsWith("# mirrord session ").endsWith(" for " + self + ": a JVM started with these variables joins it.");
    assertThat(lines.get(2))
        .matches("JAVA_TOOL_OPTIONS='-Dfrom.user=1 -javaagent:" + layerJar + "=" + tmp + "/mirrord-[0-9a-f]{8}/session.properties'");
    assertThat(lines.subList(3, lines.size()))
        .containsExactly("DB_URL=postgres://db:5432/app", "FAKE_POD_VAR=from-target");
    Map<String, String> printed =
        new ObjectMapper().readValue(r.out.toString(), new TypeReference<Map<String, String>>() {});
    assertThat(printed).containsOnlyKeys("JAVA_TOOL_OPTIONS", "DB_URL", "FAKE_POD_VAR");
    assertThat(r.errLines())
        .containsExactly(
            "mirrord: session " + sessionId(printed) + " is up for " + self + ": JVMs started with the variables in "
                + envFile + " join it; Ctrl-C ends it");

    Properties session = new Properties();
    Path sessionFile = Path.of(printed.get("JAVA_TOOL_OPTIONS").replaceAll(".*=", ""));
    try (InputStream in = Files.newInputStream(sessionFile)) {
      session.load(in);
    }
    assertThat(session).containsEntry("skip.jvms", "com.example.*").containsEntry("skip.build_tools", "true");
    int port = Integer.parseInt(session.getProperty("proxy.port"));
    try (TestLayer a = join(port, session, "a"); TestLayer b = join(port, session, "b")) {
      assertThat(a.isOpen()).isTrue();
      assertThat(b.isOpen()).isTrue();
    }
    try (TestLayer c = join(port, session, "c")) {
      assertThat(c.isOpen()).as("a JVM joining after others left").isTrue();
    }

    r.thread.interrupt();
    r.thread.join(20_000);
    assertThat(r.thread.isAlive()).isFalse();
    assertThat(sessionFile.getParent()).as("session dir").doesNotExist();
    assertThat(envFile).as("the env file the IDE points at stays").exists();
    await().atMost(Duration.ofSeconds(10)).until(() -> fakeAgents().findAny().isEmpty());
  }

  @Test
  void withoutEnvFileOrFormatTheDotenvFormIsPrinted() {
    Running r = start("session", "--target", self, "--no-env");

    assertThat(r.out.toString().lines().filter(l -> !l.startsWith("#")).toList())
        .singleElement()
        .satisfies(l -> assertThat(l).startsWith("JAVA_TOOL_OPTIONS='-Dfrom.user=1 -javaagent:"));
  }

  @Test
  void whenItsAgentDiesTheSessionEndsWithOneErrorLineAndCleansUp() throws Exception {
    Running r = start("session", "--target", self, "--env-file", envFile.toString());
    Path sessionDir =
        Path.of(Files.readString(envFile).lines().filter(l -> l.startsWith("JAVA_TOOL_OPTIONS="))
            .findFirst().orElseThrow().replaceAll(".*=", "").replace("'", "")).getParent();

    List<ProcessHandle> agents = fakeAgents().toList();
    assertThat(agents).as("the fake agent").hasSize(1);
    agents.forEach(ProcessHandle::destroyForcibly);
    r.thread.join(20_000);

    assertThat(r.thread.isAlive()).as("%s", r.err).isFalse();
    assertThat(r.code.get()).as(r.err.toString()).isEqualTo(5);
    assertThat(r.errLines().getLast())
        .isEqualTo("mirrord: error: the session has ended: its agent for " + self + " is gone; start mirrord session again");
    assertThat(sessionDir).doesNotExist();
  }

  private static TestLayer join(int port, Properties session, String name) throws InterruptedException {
    TestLayer layer = new TestLayer(port);
    layer.send(new Session.Hello(ProtocolVersion.CURRENT, session.getProperty("token"), "layer " + name));
    assertThat(layer.<Session.HelloOk>next()).isInstanceOf(Session.HelloOk.class);
    return layer;
  }

  private static String sessionId(Map<String, String> env) {
    String jto = env.get("JAVA_TOOL_OPTIONS");
    int i = jto.indexOf("/mirrord-");
    return jto.substring(i + "/mirrord-".length(), i + "/mirrord-".length() + 8);
  }

  private static Stream<ProcessHandle> fakeAgents() {
    return ProcessHandle.current()
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(p -> cmdline(p.pid()).contains(FakePodAgent.class.getName()));
  }

  /** {@code /proc/<pid>/cmdline} ({@code ProcessHandle.Info} may leave the arguments out). */
  private static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"))).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }
}
