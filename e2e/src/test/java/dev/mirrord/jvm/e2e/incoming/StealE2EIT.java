package dev.mirrord.jvm.e2e.incoming;

import static dev.mirrord.jvm.e2e.incoming.IncomingLab.KEEPALIVE_PORT;
import static dev.mirrord.jvm.e2e.incoming.IncomingLab.POD_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.HttpLoadClient;
import dev.mirrord.jvm.e2e.apps.KeepAliveClient;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.apps.TinyHttpApp;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Steal mode (issue 5, "Done when"): {@code mirrord exec --tcp-steal --target pid/<pod>} with a local JVM server
 * answers the pod's clients, including a keep-alive client connected before the steal; SIGINT, {@code kill -9} of the
 * CLI and {@code kill -9} of the agent each give the port back to the pod within 2 s with no rule left; a second
 * session gets a clear error; {@code --port-map}; and a checksummed bulk run. The 50-kill loop is in {@link
 * StealCleanupE2EIT}.
 *
 * <p>The app and {@code mirrord} run in a dev namespace (see {@link IncomingLab}); clients run in the lab's client
 * namespace and connect to the pod's address, 198.18.0.10.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StealE2EIT {
  /** Requests of the bulk run; the 10 000 by default (see docs/PERFORMANCE.md for the time it takes). */
  static final int BULK_REQUESTS = Integer.getInteger("mirrord.e2e.steal.requests", 10_000);
  /** Largest body of the bulk run; see {@link #tenThousandStolenRequestsWithChecksummedBodies} for the CI size. */
  static final int BULK_MAX_BODY = Integer.getInteger("mirrord.e2e.steal.maxBody", 64 * 1024);

  private static IncomingLab incoming;

  private static synchronized IncomingLab incoming(NetnsLab lab) {
    if (incoming == null || incoming.lab() != lab) {
      incoming = new IncomingLab(lab);
    }
    return incoming;
  }

  enum Kill {
    /** Ctrl-C of the user: the CLI stops the app, then the agent removes its rules. */
    SIGINT_CLI,
    /** The agent reads EOF on stdin (the CLI held the pipe) and removes its rules. */
    KILL_9_CLI,
    /**
   * Nobody runs the agent's clean-up: its iptables watchdog ({@code setsid sh -c …}) removes the rules; the CLI ends
   * the app ({@code layer.on_disconnect=exit}).
   */
    KILL_9_AGENT
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kill.class)
  void stealsNewAndKeepAliveClientsAndHandsBackWithinTwoSeconds(Kill kill, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    in.startPodKeepAliveServer();
    String local = in.devNamespace("local");
    try (LabProcess ka = in.client(IncomingLab.java(KeepAliveClient.class, in.podIp(),
            Integer.toString(KEEPALIVE_PORT), "50", "90"))) {
      KeepAliveLog log = new KeepAliveLog(ka);
      KeepAliveLog.Line before = log.await(0, l -> l.answeredBy("pod"), Duration.ofSeconds(30), "answer from the pod");

      long stealStart = System.currentTimeMillis();
      try (MirrordSession s = in.mirrord(local, List.of("--tcp-steal"),
          IncomingLab.java(ShaHttpServerApp.class, Integer.toString(KEEPALIVE_PORT), "local", "120"))) {
        try {
          s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
          assertThat(s.agentPid()).as("agent pid").isPositive();
          assertThat(s.watchdogPid()).as("iptables watchdog pid").isPositive();

          // The keep-alive client, connected before the steal, is reset once (conntrack flush) and reconnects into it.
          KeepAliveLog.Line stolen =
              log.await(stealStart, l -> l.answeredBy("local"), Duration.ofSeconds(10), "answer from the local app");
          assertThat(stolen.conn()).as("answered locally on a new connection").isGreaterThan(before.conn());
          assertThat(log.lines().stream().filter(l -> l.millis() <= stolen.millis() && l.kind().equals("fail")))
              .as("requests that failed even after one retry, up to the first local answer").isEmpty();
          // A new client is stolen as well.
          assertThat(in.curlPod(KEEPALIVE_PORT, "/new", Duration.ofSeconds(5))).isEqualTo("hello from local: GET /new\n");
          assertThat(s.stdout()).contains(ShaHttpServerApp.REQUEST_PREFIX + "GET /new 0 ");
          assertThat(in.mirrordRules()).as("our rules while stealing").anyMatch(r -> r.contains("--dport " + KEEPALIVE_PORT));

          long killedAt = System.currentTimeMillis();
          switch (kill) {
            case SIGINT_CLI -> s.signalCli("INT");
            case KILL_9_CLI -> s.signalCli("KILL");
            case KILL_9_AGENT -> s.killAgent();
          }
          KeepAliveLog.Line back =
              log.await(killedAt, l -> l.answeredBy("pod"), Duration.ofSeconds(10), "answer from the pod after " + kill);
          long handBackMillis = back.millis() - killedAt;
          List<KeepAliveLog.Line> afterKill = log.since(killedAt);
          System.out.printf(Locale.ROOT, "[steal] %s: pod answers the keep-alive client %d ms after the kill "
                  + "(%d errors, %d failed requests in between)%n", kill, handBackMillis,
              afterKill.stream().filter(l -> l.millis() <= back.millis() && l.kind().equals("error")).count(),
              afterKill.stream().filter(l -> l.millis() <= back.millis() && l.kind().equals("fail")).count());
          assertThat(handBackMillis).as("ms from %s until the pod answers the same client", kill).isLessThanOrEqualTo(2000);
          // A connection caught in the hand-back is closed or reset, never left hanging (its replies must still be
          // un-NATed when the agent closes it): no request of the client ran into its 3 s read timeout.
          assertThat(log.since(killedAt)).as("client lines after the kill")
              .noneMatch(l -> l.text().contains("SocketTimeoutException"));

          Awaitility.await("no MIRRORD rule left").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
              .untilAsserted(() -> assertThat(in.mirrordRules()).isEmpty());
          Awaitility.await("agent and watchdog gone").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
              .untilAsserted(() -> {
                assertThat(IncomingLab.alive(s.agentPid())).as("agent alive").isFalse();
                assertThat(IncomingLab.alive(s.watchdogPid())).as("watchdog alive").isFalse();
                assertThat(in.mirrordProcessesInPod()).isEmpty();
              });
          switch (kill) {
            case SIGINT_CLI -> {
              assertThat(s.process().waitFor(Duration.ofSeconds(10))).as("mirrord's exit code after SIGINT")
                  .isEqualTo(130);
              assertThat(s.liveProcesses()).isEmpty();
              assertThat(IncomingLab.processesIn(local)).as("processes in the dev namespace").isEmpty();
            }
            case KILL_9_CLI -> {
              // The app must not run on without mirrord: its layer ends it (exit 75) with one line on stderr.
              Awaitility.await("the app exits").atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20))
                  .until(() -> !IncomingLab.alive(s.appPid()));
              assertThat(s.stderr().lines().filter(l -> l.startsWith("mirrord: lost the connection to mirrord")))
                  .hasSize(1);
              Awaitility.await().atMost(Duration.ofSeconds(5))
                  .untilAsserted(() -> assertThat(IncomingLab.processesIn(local)).isEmpty());
            }
            case KILL_9_AGENT -> {
              // layer.on_disconnect=exit (the default): the CLI ends the session, the app exits with 75, and mirrord
              // returns that code.
              assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code").isEqualTo(75);
              assertThat(s.stderr()).contains("mirrord: warning: lost the connection to the agent; ending the app")
                  .contains("mirrord: lost the connection to mirrord at 127.0.0.1:");
              Awaitility.await().atMost(Duration.ofSeconds(5))
                  .untilAsserted(() -> assertThat(s.liveProcesses()).isEmpty());
            }
          }
          // Still the pod's, for the next test.
          assertThat(log.await(System.currentTimeMillis(), l -> l.answeredBy("pod"), Duration.ofSeconds(5), "pod")
              .text()).startsWith("hello from pod");
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
        }
      }
    }
  }

  /**
   * Issue 14, {@code --agent-ttl}: the agent of the first session stays and serves the second (no agent start on the
   * second run); each session's steal is handed back when that session ends (Ctrl-C, then {@code kill -9} of the CLI),
   * while the agent stays; the agent leaves once it has been idle for the TTL, and then nothing of it is left.
   */
  @Test
  void aKeptAgentServesTheNextSessionAndEachSessionHandsItsPortBack(NetnsLab lab) throws Exception {
    IncomingLab in = incoming(lab);
    String local = in.devNamespace("local");
    List<String> flags = List.of("--tcp-steal", "--agent-ttl", "10");
    List<String> app = IncomingLab.java(TinyHttpApp.class, Integer.toString(POD_PORT), "local", "60");
    long agent;
    long[] millis = new long[2];
    for (int run = 0; run < 2; run++) {
      long t0 = System.nanoTime();
      try (MirrordSession s = in.mirrord(local, flags, app)) {
        try {
          s.awaitApp("^" + TinyHttpApp.READY_PREFIX + POD_PORT + "$", IncomingLab.START);
          millis[run] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
          assertThat(in.curlPod(POD_PORT, "/run" + run, Duration.ofSeconds(5))).isEqualTo("hello from local: GET /run" + run + "\n");
          assertThat(agentsInPod(in)).as("one agent in the pod").hasSize(1);
          // the first session ends with Ctrl-C, the second with kill -9 of the CLI: both hand the port back
          s.signalCli(run == 0 ? "INT" : "KILL");
          assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("exit code").isEqualTo(run == 0 ? 130 : 137);
          String log = Files.readString(s.dir().resolve("mirrord.log"));
          if (run == 0) {
            assertThat(s.keepAgent()).as("the first session starts the agent").isPositive();
            assertThat(log).contains("stays 10 s after each session for the next mirrord exec");
          } else {
            assertThat(log).as("the second session reuses it").contains("reusing agent pid " + keptAgent(in) + " for pid/");
          }
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
        }
      }
      // between and after the sessions: the port is the pod's again, no rule left, the agent still there
      assertThat(in.curlPod(POD_PORT, "/after" + run, Duration.ofSeconds(5))).isEqualTo("hello from pod: GET /after" + run + "\n");
      // the kept agent's chains stay with it (only RETURNs: nothing is redirected); the session's redirect is gone
      assertThat(in.mirrordRules()).as("rules after session %d", run)
          .noneMatch(r -> r.contains("REDIRECT") || r.contains("--dport"));
      assertThat(agentsInPod(in)).as("the kept agent").hasSize(1);
    }
    agent = keptAgent(in);
    // it runs in a session of its own, whose weight its capture warm-up lowered while it ran; it serves at its normal one
    Path autogroup = Path.of("/proc", Long.toString(agent), "autogroup"); // absent in a kernel without autogroups
    if (Files.exists(autogroup)) {
      assertThat(Files.readString(autogroup)).as("the kept agent's scheduling group (WarmUpPriority)").endsWith(" nice 0\n");
    }
    // glibc's malloc with few arenas (AgentJvmOptions.ENVIRONMENT), set in the agent's environment by the CLI
    assertThat(List.of(Files.readString(Path.of("/proc", Long.toString(agent), "environ")).split("\0")))
        .as("the kept agent's environment").contains("MALLOC_ARENA_MAX=2");
    System.out.printf(Locale.ROOT, "[steal] --agent-ttl: app listening %d ms after mirrord exec started, %d ms when the"
        + " agent was kept from the first run%n", millis[0], millis[1]);
    Awaitility.await("the kept agent leaves after 10 s idle").atMost(Duration.ofSeconds(25)).pollInterval(Duration.ofMillis(100))
        .until(() -> !IncomingLab.alive(agent));
    assertThat(in.mirrordProcessesInPod()).isEmpty();
    assertThat(in.mirrordRules()).isEmpty();
    try (var files = Files.list(Path.of(System.getProperty("java.io.tmpdir"), "mirrord-agents"))) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .as("the agent's socket and the CLI's record of it are gone with it")
          .noneMatch(f -> f.endsWith(".sock") || f.endsWith(".agent"));
    }
  }

  /**
   * The agent processes in the pod's namespace. A child the agent is spawning (iptables, conntrack)
   * shows the agent's own command line between its fork and its exec: a process whose parent is
   * listed too is that child, not a second agent.
   */
  private static List<String> agentsInPod(IncomingLab in) {
    List<String> listed = in.mirrordProcessesInPod().stream().filter(p -> p.contains("mirrord-pod-agent")).toList();
    java.util.Set<Long> pids = new java.util.HashSet<>();
    listed.forEach(p -> pids.add(pidOf(p)));
    return listed.stream()
        .filter(p -> ProcessHandle.of(pidOf(p)).flatMap(ProcessHandle::parent).map(ProcessHandle::pid)
            .filter(pids::contains).isEmpty())
        .toList();
  }

  private static long pidOf(String process) {
    return Long.parseLong(process.strip().split("\\s+")[0]);
  }

  /** The pid of the one agent process in the pod's namespace. */
  private static long keptAgent(IncomingLab in) {
    List<String> agents = agentsInPod(in);
    assertThat(agents).hasSize(1);
    return pidOf(agents.get(0));
  }

  @Test
  void portMapLetsTheAppListenOn9090WhileStealingThePods8080(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of("--tcp-steal", "--port-map", "9090:8080"),
        IncomingLab.java(TinyHttpApp.class, "9090", "local", "60"))) {
      try {
        s.awaitApp("^" + TinyHttpApp.READY_PREFIX + "9090$", IncomingLab.START);
        assertThat(in.curlPod(POD_PORT, "/mapped", Duration.ofSeconds(5))).isEqualTo("hello from local: GET /mapped\n");
        List<String> rules = in.mirrordRules();
        assertThat(rules).as("redirect of the pod's 8080").anyMatch(r -> r.contains("--dport 8080"));
        assertThat(rules).as("nothing about the local port").noneMatch(r -> r.contains("--dport 9090"));
        s.signalCli("INT");
        s.process().waitFor(Duration.ofSeconds(15));
        assertThat(in.curlPod(POD_PORT, "/after", Duration.ofSeconds(5))).isEqualTo("hello from pod: GET /after\n");
        assertThat(in.mirrordRules()).isEmpty();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  @Test
  void aSecondSessionStealingTheSamePortGetsAnErrorNamingThePort(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession first = in.mirrord(in.devNamespace("local"), List.of("--tcp-steal"),
        IncomingLab.java(TinyHttpApp.class, Integer.toString(POD_PORT), "first", "60"))) {
      first.awaitApp("^" + TinyHttpApp.READY_PREFIX, IncomingLab.START);
      assertThat(in.curlPod(POD_PORT, "/a", Duration.ofSeconds(5))).isEqualTo("hello from first: GET /a\n");
      try (MirrordSession second = in.mirrord(in.devNamespace("local2"), List.of("--tcp-steal"),
          IncomingLab.java(TinyHttpApp.class, Integer.toString(POD_PORT), "second", "60"))) {
        try {
          second.awaitApp("^" + TinyHttpApp.READY_PREFIX, IncomingLab.START);
          Pattern error = Pattern.compile("(?m)^mirrord: error: .*\\b" + POD_PORT + "\\b.*$");
          Matcher m = Awaitility.await("the second mirrord's error line").atMost(Duration.ofSeconds(10))
              .until(() -> error.matcher(second.stderr()), Matcher::find);
          System.out.println("[steal] second session: " + m.group());
          assertThat(m.group().toLowerCase(Locale.ROOT)).contains("already");
          // The first session keeps the port, before and after the second one ends.
          assertThat(in.curlPod(POD_PORT, "/b", Duration.ofSeconds(5))).isEqualTo("hello from first: GET /b\n");
          second.signalCli("INT");
          second.process().waitFor(Duration.ofSeconds(15));
          assertThat(in.curlPod(POD_PORT, "/c", Duration.ofSeconds(5))).isEqualTo("hello from first: GET /c\n");
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\n" + second.outputForHumans() + first.outputForHumans(), e);
        }
      }
      first.signalCli("INT");
      first.process().waitFor(Duration.ofSeconds(15));
    }
    assertThat(in.curlPod(POD_PORT, "/d", Duration.ofSeconds(5))).isEqualTo("hello from pod: GET /d\n");
    assertThat(in.mirrordRules()).isEmpty();
  }

  /**
   * {@value #BULK_REQUESTS} stolen requests over 32 keep-alive connections, random bodies of 0 to {@value
   * #BULK_MAX_BODY} bytes: the app echoes each body's SHA-256 and the client checks it. CI runs the 10 000
   * requests with bodies up to 64 KiB (about 320 MiB, under a minute on 2 cores); {@code bench/steal.sh} runs the
   * full 0–1 MiB size (about 5 GiB), or set {@code -Dmirrord.e2e.steal.maxBody=1048576}.
   */
  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void tenThousandStolenRequestsWithChecksummedBodies(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    int port = 8083;
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of("--tcp-steal"),
        IncomingLab.java(ShaHttpServerApp.class, Integer.toString(port), "local", "560"))) {
      try {
        s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        long t0 = System.nanoTime();
        int deadline = Integer.getInteger("mirrord.e2e.steal.deadline", 400);
        try (LabProcess client = in.client(IncomingLab.javaForLoad(HttpLoadClient.class, "host=" + in.podIp(),
            "port=" + port, "connections=32", "requests=" + BULK_REQUESTS, "maxBody=" + BULK_MAX_BODY, "seed=5",
            "expect=local", "verifySha=true", "retry=false", "deadline=" + deadline, "progressEvery=1000"))) {
          int exit = client.waitFor(Duration.ofSeconds(deadline + 30));
          String summary = client.awaitStdout("^" + HttpLoadClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group();
          System.out.printf(Locale.ROOT, "[steal] bulk %d requests, bodies 0-%d B, 32 connections: %s (%d ms)%n",
              BULK_REQUESTS, BULK_MAX_BODY, summary, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
          assertThat(summary).as(client.outputForHumans())
              .contains("requests=" + BULK_REQUESTS + " ok=" + BULK_REQUESTS + " bad=0 failed=0 retries=0");
          assertThat(exit).isZero();
        }
        long appRequests = s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX)).count();
        assertThat(appRequests).as("requests the local app saw").isEqualTo(BULK_REQUESTS);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }
}
