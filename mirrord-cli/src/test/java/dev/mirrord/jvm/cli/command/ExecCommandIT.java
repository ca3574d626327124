package dev.mirrord.jvm.cli.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import dev.mirrord.jvm.cli.launch.FakeAgentCommands;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.FakePodAgent;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mirrord exec --target pid/<this JVM>} end to end, with {@link FakePodAgent} started as a
 * real agent process (instead of nsenter + the pod agent jar) and a dummy layer jar.
 */
class ExecCommandIT {

  @TempDir Path tmp;
  Path layerJar;
  Path out;
  final String self = "pid/" + ProcessHandle.current().pid();

  @BeforeEach
  void setUp() throws IOException {
    layerJar = Files.writeString(tmp.resolve("dummy-layer.jar"), "dummy");
    out = tmp.resolve("child.out");
  }

  /**
   * The CLI's environment, with a local launcher that starts {@link FakePodAgent}, and that the
   * session sees only as an {@link AgentLauncher}: the agent answers for the target (its fake
   * environment and resolver files) and starts before the command.
   */
  CliEnvironment env(Map<String, String> extra, String... fakeAgentArgs) {
    return env(false, extra, fakeAgentArgs);
  }

  /**
   * As {@link #env(Map, String...)}, or with {@code besideAgent} the local launcher itself: the CLI
   * reads the target's {@code /proc/N} and starts the command while the agent starts.
   */
  CliEnvironment env(boolean besideAgent, Map<String, String> extra, String... fakeAgentArgs) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet().removeIf(k -> k.startsWith("MIRRORD_"));
    env.put("MIRRORD_LAYER_JAR", layerJar.toString());
    env.put("JAVA_TOOL_OPTIONS", "-Dfrom.user=1");
    env.put("HOME", "/home/local-user");
    env.putAll(extra);
    return CliEnvironment.system()
        .withEnv(env)
        .withSystemProperties(Map.of())
        .withTmpDir(tmp)
        .withAgentLaunchers(
            (target, e) -> {
              LocalAgentLauncher local =
                  new LocalAgentLauncher(
                      Path.of("/proc"), () -> true, FakeAgentCommands.fakePodAgent(fakeAgentArgs), Duration.ofSeconds(20));
              return besideAgent ? local : (AgentLauncher) local::launch;
            });
  }

  /** A local target of our own: {@code sleep} with an environment the fake agent does not know. */
  private Process localTarget() throws IOException {
    ProcessBuilder pb = new ProcessBuilder("sleep", "120");
    pb.environment().clear();
    pb.environment().putAll(Map.of("FAKE_POD_VAR", "from-proc", "DB_URL", "postgres://proc-db:5432/app", "SECRET_KEY", "s3"));
    return pb.start();
  }

  @Test
  void aLocalTargetsCommandStartsBesideTheAgentWithTheEnvironmentAndResolverFilesFromProc() throws Exception {
    Process target = localTarget();
    try {
      String script =
          String.join(
              "; ",
              "f=${JAVA_TOOL_OPTIONS##*=}",
              "echo \"FAKE=$FAKE_POD_VAR\" > " + out,
              "echo \"DB=$DB_URL\" >> " + out,
              "echo \"SECRET=$SECRET_KEY\" >> " + out,
              "cat \"$f\" >> " + out,
              "echo '--- resolv' >> " + out,
              "cat \"$(sed -n 's/^dns.resolv_conf=//p' \"$f\")\" >> " + out,
              "exit 5");
      CliRun r =
          CliRun.run(
              env(true, Map.of()),
              "exec", "--target", "pid/" + target.pid(), "--env-exclude", "SECRET_*",
              "--log-file", tmp.resolve("cli.log").toString(), "--", "bash", "-c", ": java; " + script);

      assertThat(r.code()).as(r.err()).isEqualTo(5);
      String printed = Files.readString(out);
      assertThat(printed)
          .as("the target's own environment, read from /proc (the fake agent would answer FAKE=from-target)")
          .contains("FAKE=from-proc\n", "DB=postgres://proc-db:5432/app\n", "SECRET=\n")
          .as("the layer's handshake may wait for the agent's start")
          .contains("handshake.timeout.ms=" + dev.mirrord.jvm.cli.exec.ExecSession.LAYER_WAITS_FOR_AGENT.toMillis())
          .as("the target's resolv.conf, through /proc/N/root")
          .endsWith("--- resolv\n" + Files.readString(Path.of("/proc/" + target.pid() + "/root/etc/resolv.conf")));
      String log = Files.readString(tmp.resolve("cli.log"));
      assertThat(log)
          .contains("imported 2 of 3 target environment variables")
          .contains("[mirrord-agent-start]")
          .contains("target pid/" + target.pid() + ": pid " + target.pid() + " netns");
      assertThat(sessionDirs()).isEmpty();
      await().atMost(Duration.ofSeconds(10)).until(() -> fakeAgents().findAny().isEmpty());
    } finally {
      target.destroy();
    }
  }

  @Test
  void aLocalAgentThatFailsStopsTheCommandStartedBesideItAndIsTheSessionsError() throws Exception {
    Process target = localTarget();
    try {
      long t0 = System.nanoTime();
      CliRun r =
          CliRun.run(
              env(true, Map.of(), "--fake-delay-ms", "500", "--fake-exit", "3"),
              "exec", "-t", "pid/" + target.pid(), "--", "bash", "-c", ": java; echo started > " + out + "; sleep 60");
      Duration took = Duration.ofNanos(System.nanoTime() - t0);

      assertThat(r.code()).as(r.err()).isEqualTo(3);
      assertThat(r.errLines().getLast())
          .startsWith("mirrord: error: the mirrord agent exited with code 3 before it was ready (fake agent: failing on purpose)");
      assertThat(r.err()).doesNotContain("Exception");
      assertThat(Files.readString(out)).as("the command had started beside the agent").isEqualTo("started\n");
      assertThat(took).as("the command was stopped, not waited for").isLessThan(Duration.ofSeconds(30));
      assertThat(sessionDirs()).isEmpty();
      assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
              .filter(h -> h.info().command().orElse("").endsWith("/sleep") && h.pid() != target.pid()))
          .as("nothing of the command left")
          .isEmpty();
    } finally {
      target.destroy();
    }
  }

  @Test
  void runsTheCommandWithTheLayerAndTheTargetEnvAndReturnsItsExitCode() throws IOException {
    String script =
        String.join(
            "; ",
            "echo \"JTO=$JAVA_TOOL_OPTIONS\" > " + out,
            "echo \"FAKE=$FAKE_POD_VAR\" >> " + out,
            "echo \"DB=$DB_URL\" >> " + out,
            "echo \"SECRET=$SECRET_KEY\" >> " + out,
            "echo \"HOME=$HOME\" >> " + out,
            "echo \"PATH=$PATH\" >> " + out,
            "f=${JAVA_TOOL_OPTIONS##*=}",
            "echo \"MODE=$(stat -c %a \"$f\")\" >> " + out,
            "cat \"$f\" >> " + out,
            "exit 7");

    CliRun r =
        CliRun.run(
            env(Map.of()),
            "exec", "--target", self, "--env-exclude", "SECRET_*", "--log-file", tmp.resolve("cli.log").toString(),
            "-p", "8080:80", "--", "bash", "-c", script);

    assertThat(r.code()).as(r.err()).isEqualTo(7);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).doesNotContain("error").doesNotContain("Exception");
    assertThat(r.errLines()).noneMatch(l -> l.contains("not implemented yet"));

    List<String> lines = Files.readAllLines(out);
    assertThat(lines.get(0)).matches("JTO=-Dfrom.user=1 -javaagent:" + layerJar + "=" + tmp + "/mirrord-[0-9a-f]{8}/session.properties");
    assertThat(lines)
        .contains("FAKE=from-target", "DB=postgres://db:5432/app", "SECRET=", "HOME=/home/local-user", "MODE=600")
        .contains("PATH=" + System.getenv("PATH"))
        .contains("proxy.host=127.0.0.1", "incoming.mode=mirror", "port.map=8080\\:80", "session.id=" + sessionId(lines.get(0)))
        .anyMatch(l -> l.matches("proxy.port=\\d+"))
        .anyMatch(l -> l.matches("token=[0-9a-f]{64}"));

    assertThat(sessionDirs()).as("session dir removed").isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> fakeAgents().findAny().isEmpty());
    assertThat(Files.readString(tmp.resolve("cli.log"))).contains("imported 2 of 7 target environment variables");
  }

  @Test
  void kubernetesOnlySettingsAreIgnoredWithOneWarningEachForAPidTarget() {
    CliRun r =
        CliRun.run(
            env(Map.of("MIRRORD_INCOMING_MODE", "off")),
            "exec", "--target", self, "--no-outgoing", "--no-remote-dns", "-n", "shop", "--ephemeral", "--",
            "bash", "-c", "exit 0");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.errLines())
        .filteredOn(l -> l.contains("Kubernetes"))
        .containsExactly(
            "mirrord: warning: --namespace and --context only apply to Kubernetes targets; ignored for " + self,
            "mirrord: warning: --ephemeral (agent.ephemeral) only applies to Kubernetes targets; ignored for " + self);
  }

  @Test
  void noEnvImportsNothingAndNonJvmCommandsAreFlagged() throws IOException {
    CliRun r =
        CliRun.run(
            env(Map.of("MIRRORD_INCOMING_MODE", "off", "MIRRORD_NO_OUTGOING", "true", "MIRRORD_NO_REMOTE_DNS", "1")),
            "exec", "-t", self, "--no-env", "--", "sh", "-c", "echo \"FAKE=$FAKE_POD_VAR\" > " + out);

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.errLines())
        .containsExactly(
            "mirrord: warning: 'sh' does not look like a JVM; it will run without the mirrord layer unless it starts java itself");
    assertThat(Files.readAllLines(out)).containsExactly("FAKE=");
  }

  @Test
  void childKilledBySignalGives128PlusSignal() {
    CliRun r = CliRun.run(env(Map.of("MIRRORD_INCOMING_MODE", "off")), "exec", "-t", self, "--", "bash", "-c", ": java; kill -TERM $$");
    assertThat(r.code()).isEqualTo(128 + 15);
    assertThat(sessionDirs()).isEmpty();
  }

  @Test
  void agentFailingBeforeReadyIsOneLine() {
    CliRun r = CliRun.run(env(Map.of(), "--fake-exit", "3"), "exec", "-t", self, "--", "java", "-version");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.errLines().getLast())
        .startsWith("mirrord: error: the mirrord agent exited with code 3 before it was ready (fake agent: failing on purpose)");
    assertThat(r.err()).doesNotContain("Exception");
    assertThat(sessionDirs()).isEmpty();
  }

  @Test
  void incompatibleAgentIsExit7NamingBothVersions() {
    CliRun r = CliRun.run(env(Map.of(), "--fake-protocol", "5.0"), "exec", "-t", self, "--", "java", "-version");
    assertThat(r.code()).isEqualTo(7);
    assertThat(r.errLines().getLast()).startsWith("mirrord: error: the mirrord agent speaks protocol 5.0 but this CLI speaks " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT);
    assertThat(sessionDirs()).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> fakeAgents().findAny().isEmpty());
  }

  /** Runs {@code exec} with a script printing the session file and the resolver copies it names. */
  private CliRun resolverFilesRun(Map<String, String> extraEnv, List<String> fakeAgentArgs, String... flags) {
    String script =
        String.join(
            "; ",
            "f=${JAVA_TOOL_OPTIONS##*=}",
            "cat \"$f\" > " + out,
            "for k in dns.resolv_conf dns.hosts; do p=$(sed -n \"s/^$k=//p\" \"$f\"); "
                + "if [ -n \"$p\" ]; then echo \"--- $k $(stat -c %a \"$p\")\" >> " + out + "; cat \"$p\" >> " + out + "; fi; done",
            "exit 0");
    List<String> args = new java.util.ArrayList<>(List.of("exec", "-t", self, "--log-file", tmp.resolve("cli.log").toString()));
    args.addAll(List.of(flags));
    args.addAll(List.of("--", "bash", "-c", ": java; " + script));
    Map<String, String> env = new HashMap<>(Map.of("MIRRORD_INCOMING_MODE", "off"));
    env.putAll(extraEnv);
    return CliRun.run(env(env, fakeAgentArgs.toArray(String[]::new)), args.toArray(String[]::new));
  }

  @Test
  void theTargetsResolverFilesAreCopiedIntoTheSessionDirAndNamedInTheSessionFile() throws IOException {
    CliRun r = resolverFilesRun(Map.of(), List.of());

    assertThat(r.code()).as(r.err()).isZero();
    String printed = Files.readString(out);
    assertThat(printed)
        .containsPattern("(?m)^dns\\.resolv_conf=" + java.util.regex.Pattern.quote(tmp.toString()) + "/mirrord-[0-9a-f]{8}/target-resolv\\.conf$")
        .containsPattern("(?m)^dns\\.hosts=.*/mirrord-[0-9a-f]{8}/target-hosts$")
        .doesNotContain("dns.files.problem")
        .contains("--- dns.resolv_conf 600\n" + FakePodAgent.RESOLV_CONF)
        .contains("--- dns.hosts 600\n" + FakePodAgent.HOSTS);
    assertThat(sessionDirs()).as("the copies go with the session dir").isEmpty();
    assertThat(Files.readString(tmp.resolve("cli.log")))
        .contains("the app's own resolvers read the target's /etc/resolv.conf and /etc/hosts");
  }

  @Test
  void withNoRemoteDnsTheAgentIsNotAskedAndTheAppKeepsTheLocalFiles() throws IOException {
    CliRun r = resolverFilesRun(Map.of(), List.of(), "--no-remote-dns");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(out)).contains("dns.remote=false").doesNotContain("dns.resolv_conf")
        .doesNotContain("dns.hosts").doesNotContain("dns.files.problem");
  }

  @Test
  void anUnreadableTargetFileLeavesTheLocalOneWithOneWarningAndNoFailure() throws IOException {
    CliRun r = resolverFilesRun(Map.of(), List.of("--fake-unreadable-hosts"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).as("a log line, not a user-facing warning").doesNotContain("hosts");
    String printed = Files.readString(out);
    assertThat(printed).contains("--- dns.resolv_conf 600").doesNotContain("dns.hosts=")
        .containsPattern("(?m)^dns\\.files\\.problem=the target's /etc/hosts cannot be read \\(forbidden.*permission denied\\); the app reads this machine's$");
    assertThat(Files.readString(tmp.resolve("cli.log")))
        .containsOnlyOnce("the target's /etc/hosts cannot be read");
  }

  @Test
  void anAgentOlderThanProtocol14ServesNoResolverFilesAndSaysSo() throws IOException {
    CliRun r = resolverFilesRun(Map.of(), List.of("--fake-protocol", "1.3"));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(out)).doesNotContain("dns.resolv_conf")
        .containsPattern("(?m)^dns\\.files\\.problem=the agent speaks protocol 1\\.3, older than 1\\.4");
  }

  private List<Path> sessionDirs() {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith("mirrord-")).toList();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Stream<ProcessHandle> fakeAgents() {
    return ProcessHandle.current()
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(FakePodAgent.class.getName())).orElse(false));
  }

  private static String sessionId(String jtoLine) {
    int i = jtoLine.indexOf("/mirrord-");
    return jtoLine.substring(i + "/mirrord-".length(), i + "/mirrord-".length() + 8);
  }
}
