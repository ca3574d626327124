package dev.mirrord.jvm.e2e.exec;

import static dev.mirrord.jvm.e2e.exec.SessionChecks.assertNothingLeft;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.HttpGetApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.ProbeApp;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code mirrord session --target pid/<lab pod> --env-file F} as an IDE user runs it: the session and the JVMs started
 * separately with F's variables (as IntelliJ's EnvFile or VS Code's {@code envFile} would start them) run in a
 * loopback-only "developer machine" namespace; the JVMs mirror, steal and reach the lab's services through the target,
 * several at once and one after another; Ctrl-C ends the session with nothing left; a JVM started afterwards with the
 * same file runs locally with one warning line.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SessionE2EIT {
  static final Duration START = Duration.ofSeconds(60);
  static final String PICKED_UP = "Picked up JAVA_TOOL_OPTIONS: ";

  @BeforeAll
  static void jarsAreBuilt() {
    MirrordRun.buildJarsOnce();
  }

  @Test
  void jvmsJoiningAtOnceAndOneAfterAnotherMirrorAndReachTheClusterAndALaterOneRunsLocally(NetnsLab lab)
      throws IOException {
    String ns = lab.devNamespace("ide");
    Path envFile = lab.logDir().resolve("ide/mirror.env");

    Map<String, String> env;
    try (MirrordRun session = startSession(lab, ns, "session-mirror", envFile)) {
      env = readDotenv(envFile);
      assertThat(env).containsKeys("JAVA_TOOL_OPTIONS", "POD_NAME", "DATABASE_URL").doesNotContainKeys("PATH", "HOME");

      try (LabProcess server = startLocalServer(lab, ns, env)) {
        // a second JVM at the same time: a cluster name, through the target
        ExecResult get = run(lab, ns, env, JavaApps.command17(HttpGetApp.class, "http://svc:8080/session"));
        assertThat(get.stdout()).as("%s", get).isEqualTo("status=200\nhello from svc: GET /session\n");
        assertThat(curlPod(lab, "/mirrored-1")).isEqualTo("hello from pod: GET /mirrored-1\n");
        server.awaitStdout(ShaHttpServerApp.REQUEST_PREFIX + "GET /mirrored-1 ", START);
      }
      try (LabProcess again = startLocalServer(lab, ns, env)) {
        assertThat(curlPod(lab, "/mirrored-2")).isEqualTo("hello from pod: GET /mirrored-2\n");
        again.awaitStdout(ShaHttpServerApp.REQUEST_PREFIX + "GET /mirrored-2 ", START);

        session.signal("INT"); // while a JVM is still attached: it carries on, alone
        assertThat(session.waitFor(Duration.ofSeconds(30))).as("%s", session.outputForHumans()).isZero();
        assertThat(again.isAlive()).isTrue();
      }
      assertThat(session.stdout()).isEmpty();
      assertThat(session.stderr().lines().toList())
          .singleElement()
          .satisfies(l -> assertThat(l).startsWith("mirrord: session ").endsWith(" join it; Ctrl-C ends it"));
      assertNothingLeft(lab, session);
    }

    assertThat(envFile).as("the env file the IDE points at").exists();
    ExecResult later = run(lab, ns, env, JavaApps.command17(ProbeApp.class));
    assertThat(later.exitCode()).as("%s", later).isZero();
    assertThat(later.stdout()).contains("probe.mirrord.layer.connected=" + ProbeApp.UNSET + "\n");
    assertThat(later.stderr().lines().filter(l -> !l.startsWith(PICKED_UP)).toList())
        .singleElement()
        .satisfies(l -> assertThat(l).startsWith("mirrord: layer disabled: no mirrord session at ")
            .endsWith(": it has ended (or not started yet); the app runs without mirrord"));
  }

  @Test
  void aJvmStartedWithTheEnvFileStealsAndCtrlCHandsThePortBack(NetnsLab lab) throws IOException {
    String ns = lab.devNamespace("ide-steal");
    Path envFile = lab.logDir().resolve("ide/steal.env");

    try (MirrordRun session = startSession(lab, ns, "session-steal", envFile, "--steal");
        LabProcess server = startLocalServer(lab, ns, readDotenv(envFile))) {
      assertThat(curlPod(lab, "/stolen")).isEqualTo("hello from local: GET /stolen\n");

      session.signal("TERM");
      assertThat(session.waitFor(Duration.ofSeconds(30))).as("%s", session.outputForHumans()).isZero();
      server.close();
      assertThat(curlPod(lab, "/after")).isEqualTo("hello from pod: GET /after\n");
      assertNothingLeft(lab, session);
    }
  }

  /** {@code mirrord session --target pid/<pod> --env-file F [flags]} in {@code ns}, once it says it is up. */
  private static MirrordRun startSession(NetnsLab lab, String ns, String name, Path envFile, String... flags) {
    List<String> args = new java.util.ArrayList<>(
        List.of("session", "--target", "pid/" + lab.podPid(), "--env-file", envFile.toString()));
    args.addAll(List.of(flags));
    MirrordRun session = MirrordRun.start(lab, name, Map.of(), List.of("ip", "netns", "exec", ns), args);
    Awaitility.await("mirrord session is up")
        .atMost(START)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> session.stderr().contains(" is up for ") || !session.isAlive());
    assertThat(session.isAlive()).as("%s", session.outputForHumans()).isTrue();
    return session;
  }

  /** {@code ShaHttpServerApp 8080 local} started in {@code ns} with {@code env}, once it listens. */
  private static LabProcess startLocalServer(NetnsLab lab, String ns, Map<String, String> env) {
    LabProcess p = lab.exec(ns, env, JavaApps.command17(ShaHttpServerApp.class, "8080", "local", "120"));
    p.awaitStdout("^" + ShaHttpServerApp.READY_PREFIX, START);
    return p;
  }

  private static ExecResult run(NetnsLab lab, String ns, Map<String, String> env, List<String> command) {
    try (LabProcess p = lab.exec(ns, env, command)) {
      int exit = p.waitFor(START);
      return new ExecResult(exit, p.stdout(), p.stderr());
    }
  }

  /** One request from the lab's client namespace to the pod's port 8080: the body, or "" if it failed. */
  private static String curlPod(NetnsLab lab, String path) {
    ExecResult r = lab.run(Node.CLIENT, Duration.ofSeconds(20), "curl", "-sS", "--max-time", "10",
        "http://" + lab.ip(Node.POD) + ":8080" + path);
    return r.exitCode() == 0 ? r.stdout() : "";
  }

  /**
   * The variables of a dotenv file as {@code mirrord session} writes it (what an IDE reads): {@code NAME=value}, the
   * value bare, in single quotes (literal) or in double quotes ({@code \n} a newline).
   */
  static Map<String, String> readDotenv(Path file) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      String value = line.substring(eq + 1);
      if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
        value = value.substring(1, value.length() - 1);
      } else if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1).replace("\\n", "\n");
      }
      env.put(line.substring(0, eq), value);
    }
    return env;
  }
}
