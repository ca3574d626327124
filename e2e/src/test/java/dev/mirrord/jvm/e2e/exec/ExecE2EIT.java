package dev.mirrord.jvm.e2e.exec;

import static dev.mirrord.jvm.e2e.exec.SessionChecks.assertNothingLeft;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.ControlledApp;
import dev.mirrord.jvm.e2e.apps.FamilyApp;
import dev.mirrord.jvm.e2e.apps.ForkingApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.ProbeApp;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code bin/mirrord exec --target pid/<pod pid> -- <command>}, all real: the CLI, the pod agent it starts under
 * {@code nsenter} in the lab pod's network namespace, and the layer in the app's JVM. The apps run on JDK 17, the
 * layer's floor. Every test states one contract and ends by checking that the session left nothing behind.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExecE2EIT {
  /** Bound for one whole {@code mirrord exec} of a short app (typically 3–4 s). */
  static final Duration RUN = Duration.ofSeconds(60);

  /** Variables the lab gives the pod's process (scripts/lab.sh POD_ENV) that the app must see. */
  private static final List<String> POD_VARS = List.of("POD_NAME", "POD_NAMESPACE", "DATABASE_URL", "GREETING", "SVC_URL");

  @BeforeAll
  static void jarsAreBuilt() {
    MirrordRun.buildJarsOnce();
  }

  @Test
  void appSeesTheLayerConnectedAndTheAgentAnsweringFromThePodsNetns(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "probe", List.of(), JavaApps.command17(ProbeApp.class))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      long podNetns = SessionChecks.netnsInode(Long.toString(lab.podPid()));
      long rootNetns = SessionChecks.netnsInode("self");
      assertThat(podNetns).isEqualTo(lab.netnsInode(Node.POD)).isNotEqualTo(rootNetns);
      assertThat(run.appValues())
          .as("what the app printed\n%s", run.outputForHumans())
          .containsEntry("probe.java.specification.version", "17")
          .containsEntry("probe.mirrord.layer.connected", "true")
          .containsEntry("probe.mirrord.target.netns", Long.toString(podNetns))
          .containsEntry("probe.mirrord.target.pid", Long.toString(lab.podPid()))
          .containsEntry("probe.mirrord.target.hostname", "pod")
          // the app itself still runs here, in the root namespace
          .containsEntry("probe.netns.self", Long.toString(rootNetns));
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void theCliAndTheAgentStartFromTheStartUpCachesBinMirrordBuilt(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "aot", List.of(), JavaApps.command17(ProbeApp.class))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      assertThat(run.cliLog())
          .as("the CLI's log\n%s", run.outputForHumans())
          .contains("started from the AOT cache ")
          .containsPattern("starting agent: .* -XX:AOTCache=\\S+\\.aot .*-cp \\S+ dev\\.mirrord\\.jvm\\.podagent\\.PodAgentMain ")
          .doesNotContain("was not usable");
      assertThat(run.agentLogText()).doesNotContain("was not usable");
      assertNothingLeft(lab, run);
    }
    // this run (or an earlier one) checked both caches whole: the next start skips the check (80-90 ms each)
    try (MirrordRun run = exec(lab, "aot-again", List.of(), JavaApps.command17(ProbeApp.class))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      assertThat(run.cliLog())
          .as("the CLI's log\n%s", run.outputForHumans())
          .contains("(checked whole by an earlier start)")
          .containsPattern("starting agent: .* -XX:AOTCache=\\S+\\.aot .*-cp \\S+ dev\\.mirrord\\.jvm\\.podagent\\.PodAgentMain ")
          .doesNotContainPattern("starting agent: .*VerifySharedSpaces");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void appsExitCodeComesBackAndStdoutHasOnlyTheAppsLines(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "exit42", List.of(), JavaApps.command17(ProbeApp.class, "--exit", "42"))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isEqualTo(42);

      List<String> lines = run.stdout().lines().toList();
      assertThat(lines).as("stdout\n%s", run.outputForHumans())
          .hasSize(2 + ProbeApp.LAYER_PROPERTIES.size())
          .allMatch(l -> l.matches("probe\\.[\\w.]+=.*"), "a ProbeApp line");
      assertThat(run.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void sigintToMirrordReachesTheAppWhoseExitCodeComesBack(NetnsLab lab) {
    Path trigger = lab.logDir().resolve("never-created");
    try (MirrordRun run = exec(lab, "sigint", List.of(), JavaApps.command17(ControlledApp.class, trigger.toString()))) {
      Matcher ready = run.awaitStdout(ControlledApp.READY_REGEX, RUN);
      assertThat(ready.group(2)).as("layer connected").isEqualTo("true");
      long appPid = Long.parseLong(ready.group(1));

      run.signal("INT");

      int exit = run.waitFor(Duration.ofSeconds(20));
      assertThat(exit).as("exit code\n%s", run.outputForHumans()).isEqualTo(ControlledApp.SIGINT_EXIT);
      assertThat(run.stdout()).as("the app's handler ran").contains("app.signal=INT\n");
      assertThat(ProcessHandle.of(appPid).filter(ProcessHandle::isAlive)).as("app pid %d", appPid).isEmpty();
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void childJvmForkedByTheAppIsAttachedToTheSameTarget(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "fork", List.of(), JavaApps.command17(ForkingApp.class))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      String podNetns = Long.toString(lab.netnsInode(Node.POD));
      assertThat(run.appValues())
          .as("what parent and child printed\n%s", run.outputForHumans())
          .containsEntry("parent.mirrord.layer.connected", "true")
          .containsEntry("parent.mirrord.target.netns", podNetns)
          .containsEntry("child.mirrord.layer.connected", "true")
          .containsEntry("child.mirrord.target.netns", podNetns)
          .containsEntry("child.mirrord.target.hostname", "pod")
          .containsEntry("parent.child.exit", "0");
      // one layer per JVM, through the one session: its start connection, and its main one if the JVM lived long
      // enough for it (the child's main may be over before)
      assertThat(run.cliLog().lines().filter(l -> l.contains("LayerConnectionHandler") && l.contains(" connected "))
          .map(l -> l.replaceAll(".*layer 'layer pid=(\\d+) .*", "$1")).distinct())
          .as("JVMs whose layer connected, in the CLI log\n%s", run.cliLog()).hasSize(2);
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void javaStartedThroughBashIsAttachedAndItsExitCodeComesBack(NetnsLab lab) {
    String java = String.join(" ", JavaApps.command17(ProbeApp.class, "--exit", "42"));
    try (MirrordRun run = exec(lab, "bash", List.of(), List.of("bash", "-c", java))) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isEqualTo(42);

      assertThat(run.appValues())
          .as("what the app printed\n%s", run.outputForHumans())
          .containsEntry("probe.mirrord.layer.connected", "true")
          .containsEntry("probe.mirrord.target.netns", Long.toString(lab.netnsInode(Node.POD)));
      assertThat(run.stderr()).doesNotContain("does not look like a JVM");
      assertNothingLeft(lab, run);
    }
  }

  static Stream<Arguments> nonJvmCommands() {
    return Stream.of(
        Arguments.of(List.of("/bin/true"), 0),
        Arguments.of(List.of("sh", "-c", "exit 3"), 3));
  }

  @ParameterizedTest(name = "{0} exits {1}")
  @MethodSource("nonJvmCommands")
  void nonJvmCommandRunsWithOneWarningLineAndItsExitCode(List<String> command, int expectedExit, NetnsLab lab) {
    // --no-outgoing/--no-remote-dns: no "not implemented yet" notices, so the one line left is about the command
    try (MirrordRun run = exec(lab, "nonjvm", List.of("--no-outgoing", "--no-remote-dns"), command)) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isEqualTo(expectedExit);

      assertThat(run.stdout()).isEmpty();
      assertThat(run.stderr().lines().toList())
          .as("stderr\n%s", run.outputForHumans())
          .singleElement()
          .satisfies(l -> assertThat(l).startsWith("mirrord: warning: ").contains("does not look like a JVM"));
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void appSeesThePodsEnvironmentButKeepsItsOwnPathHomeAndHostname(NetnsLab lab) throws IOException {
    Map<String, String> podEnv = podEnvironment(lab);
    assertThat(podEnv).containsKeys(POD_VARS.toArray(String[]::new)).containsKey("PATH");
    String localPath = System.getenv("PATH") + ":/nonexistent/mirrord-e2e-local-path";
    String localHome = "/nonexistent/mirrord-e2e-home";
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", localPath);
    env.put("HOME", localHome);
    env.put("HOSTNAME", "mirrord-e2e-local");

    try (MirrordRun run = exec(lab, "env", env, List.of(), probeEnv())) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      Map<String, String> seen = run.appValues();
      for (String name : POD_VARS) {
        assertThat(seen).as("%s\n%s", name, run.outputForHumans()).containsEntry("probe.env." + name, podEnv.get(name));
      }
      assertThat(seen)
          .containsEntry("probe.env.PATH", localPath)
          .containsEntry("probe.env.HOME", localHome)
          .containsEntry("probe.env.HOSTNAME", "mirrord-e2e-local");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void noEnvKeepsThePodsEnvironmentOut(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "no-env", List.of("--no-env"), probeEnv())) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      Map<String, String> seen = run.appValues();
      assertThat(seen).as("%s", run.outputForHumans()).containsEntry("probe.mirrord.layer.connected", "true");
      for (String name : POD_VARS) {
        assertThat(seen).as(name).containsEntry("probe.env." + name, ProbeApp.UNSET);
      }
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void envExcludeDropsTheMatchingVariablesOnly(NetnsLab lab) {
    try (MirrordRun run = exec(lab, "env-exclude", List.of("--env-exclude", "DATABASE_*,GREETING"), probeEnv())) {
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();

      assertThat(run.appValues())
          .as("%s", run.outputForHumans())
          .containsEntry("probe.env.DATABASE_URL", ProbeApp.UNSET)
          .containsEntry("probe.env.GREETING", ProbeApp.UNSET)
          .containsEntry("probe.env.POD_NAME", "pod")
          .containsEntry("probe.env.SVC_URL", "http://svc.default.svc.cluster.local:8080/");
      assertNothingLeft(lab, run);
    }
  }

  /**
   * Issue 13: after {@code kill -9} of the CLI, nothing runs on without mirrord: the agent exits (within 2 s), and
   * every JVM of the app — here a parent and the child JVM it started, each with its own layer connection — writes
   * one line to its stderr and exits with 75 within 3 s. The app is run as {@code sh -c 'java …; echo app.exit=$?'}
   * so that its exit code outlives the CLI that would have reported it.
   */
  @Test
  void killMinus9OfTheCliEndsTheAgentAndEveryJvmOfTheAppWithOneLineEach(NetnsLab lab) throws IOException {
    Path exitFile = lab.logDir().resolve("kill9-app.exit");
    String java = String.join(" ", JavaApps.command17(FamilyApp.class));
    List<String> app = List.of("sh", "-c", java + "; echo app.exit=$? > " + exitFile);
    try (MirrordRun run = exec(lab, "kill9", List.of(), app)) {
      long parent = Long.parseLong(run.awaitStdout("^family\\.parent pid=(\\d+)$", RUN).group(1));
      long child = Long.parseLong(run.awaitStdout("^family\\.child pid=(\\d+)$", RUN).group(1));
      List<Long> agents = SessionChecks.agentPidsFor(lab.podPid());
      assertThat(agents).as("the session's agent").hasSize(1);
      long agent = agents.get(0);
      Path sessionDir = run.sessionDir().orElseThrow();
      assertThat(run.stderr()).as("nothing on stderr before the kill").doesNotContain("mirrord: lost");

      long t0 = System.nanoTime();
      run.signal("KILL");
      Awaitility.await("the agent, both JVMs and the shell exit after the CLI's kill -9")
          .atMost(Duration.ofSeconds(3))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> SessionChecks.exited(agent) && SessionChecks.exited(parent) && SessionChecks.exited(child)
              && Files.exists(exitFile) && SessionChecks.processesMentioning(sessionDir.toString()).isEmpty());
      System.out.printf("[exec-e2e] agent, app and its child JVM gone %d ms after kill -9 of the CLI%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      assertThat(Files.readString(exitFile).strip()).as("the app's exit code").isEqualTo("app.exit=75");
      List<String> lines = run.stderr().lines().filter(l -> l.startsWith("mirrord:")).toList();
      assertThat(lines).as(run.outputForHumans()).hasSize(2)
          .allSatisfy(l -> assertThat(l)
              .startsWith("mirrord: lost the connection to mirrord at 127.0.0.1:")
              .contains("with exit code 75 so that it does not run on without mirrord")
              .contains("layer.on_disconnect=continue"))
          .anySatisfy(l -> assertThat(l).contains("(pid " + parent + ")"))
          .anySatisfy(l -> assertThat(l).contains("(pid " + child + ")"));

      // what only the dead CLI could have cleaned: the session dir
      deleteRecursively(sessionDir);
      assertNothingLeft(lab, run);
    }
  }

  // --- helpers

  /** {@code bin/mirrord exec --target pid/<pod> <flags> -- <command>}. */
  static MirrordRun exec(NetnsLab lab, String name, List<String> flags, List<String> command) {
    return exec(lab, name, Map.of(), flags, command);
  }

  static MirrordRun exec(NetnsLab lab, String name, Map<String, String> env, List<String> flags, List<String> command) {
    List<String> args = new ArrayList<>(List.of("exec", "--target", "pid/" + lab.podPid()));
    args.addAll(flags);
    args.add("--");
    args.addAll(command);
    return MirrordRun.start(lab, name, env, List.of(), args);
  }

  private static List<String> probeEnv() {
    List<String> names = new ArrayList<>(POD_VARS);
    names.addAll(List.of("PATH", "HOME", "HOSTNAME"));
    return JavaApps.command17(ProbeApp.class, "--env", String.join(",", names));
  }

  /** The pod process's environment as the agent reads it ({@code /proc/<pid>/environ}). */
  private static Map<String, String> podEnvironment(NetnsLab lab) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    String raw = new String(Files.readAllBytes(Path.of("/proc", Long.toString(lab.podPid()), "environ")), StandardCharsets.UTF_8);
    for (String entry : raw.split("\0")) {
      int eq = entry.indexOf('=');
      if (eq > 0) {
        env.put(entry.substring(0, eq), entry.substring(eq + 1));
      }
    }
    return env;
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
