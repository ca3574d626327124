package dev.mirrord.jvm.e2e.incoming;

import static dev.mirrord.jvm.e2e.incoming.IncomingLab.KEEPALIVE_PORT;
import static dev.mirrord.jvm.e2e.incoming.IncomingLab.POD_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.HttpLoadClient;
import dev.mirrord.jvm.e2e.apps.NettyShaHttpApp;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Mirror mode (issue 4, "Done when"): under {@code mirrord exec --target pid/<pod>} (no flag: mirror is the default) a
 * local JVM server on the pod's port receives a copy of every request that clients in the client namespace send to
 * the pod, byte for byte, while the clients only ever get the pod's answers; and killing mirrord's processes with
 * {@code kill -9} mid-load costs the pod no request.
 *
 * <p>What arrived is compared by SHA-256: the client prints {@code sent <j> <length> <sha>} for every request the pod
 * answered, the app prints {@code sha-http.req POST /load/<j> <length> <sha> <peer>} for every request it got.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MirrorE2EIT {
  /** Largest body of the 1 000-request run (the 1 MiB; see docs/PERFORMANCE.md for its time). */
  static final int BULK_MAX_BODY = Integer.getInteger("mirrord.e2e.mirror.maxBody", 1024 * 1024);
  /** Pause between two requests of a connection in that run (0: as fast as the pod answers). */
  static final int BULK_PAUSE_MILLIS = Integer.getInteger("mirrord.e2e.mirror.pauseMillis", 50);

  private static IncomingLab incoming;

  private static synchronized IncomingLab incoming(NetnsLab lab) {
    if (incoming == null || incoming.lab() != lab) {
      incoming = new IncomingLab(lab);
    }
    return incoming;
  }

  enum App {
    JDK_HTTP_SERVER(ShaHttpServerApp.class),
    NETTY(NettyShaHttpApp.class);

    final Class<?> main;

    App(Class<?> main) {
      this.main = main;
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(App.class)
  void everyRequestReachesTheLocalAppWhileClientsGetThePodsAnswer(App app, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of(),
        IncomingLab.java(app.main, Integer.toString(POD_PORT), "local", "120"))) {
      try {
        s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        // The lab's pod server (socat) answers one request per connection: 40 connections, small random bodies.
        LoadResult load = runLoad(in, "port=" + POD_PORT, "connections=2", "requests=40", "maxBody=8192",
            "verifySha=false", "seed=" + app.ordinal());
        assertThat(load.summary).contains("requests=40 ok=40 bad=0 failed=0 retries=0");
        assertThat(s.stdout()).doesNotContain("hello from local");
        Map<String, Integer> received = awaitArrived(s, load.sent, Duration.ofSeconds(20));
        assertThat(received).as("requests the app got (path, length, sha256)").isEqualTo(load.sent);
        assertThat(peers(s)).as("the app sees the real client as the peer").containsOnly(lab.ip(Node.CLIENT));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  /**
   * 1 000 keep-alive requests over 4 connections to the pod's keep-alive server, bodies of 0 to {@value
   * #BULK_MAX_BODY} random bytes (about 500 MiB): the pod answers all (checking each body's SHA-256), and the mirrored
   * copy delivers every body to the local app byte for byte.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void thousandKeepAliveRequestsWithRandomBodiesArriveByteForByte(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    in.startPodKeepAliveServer();
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of(),
        IncomingLab.java(ShaHttpServerApp.class, Integer.toString(KEEPALIVE_PORT), "local", "280"))) {
      try {
        s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        long t0 = System.nanoTime();
        LoadResult load = runLoad(in, "port=" + KEEPALIVE_PORT, "connections=4", "requests=1000",
            "maxBody=" + BULK_MAX_BODY, "verifySha=true", "seed=11", "deadline=150", "pauseMillis=" + BULK_PAUSE_MILLIS);
        long clientMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(load.summary).contains("requests=1000 ok=1000 bad=0 failed=0 retries=0 connects=4 ");
        Map<String, Integer> received = awaitArrived(s, load.sent, Duration.ofSeconds(120));
        System.out.printf(Locale.ROOT, "[mirror] 1000 keep-alive requests, bodies 0-%d B: %s; all mirrored %d ms "
            + "after the client started (client done after %d ms)%n", BULK_MAX_BODY, load.summary,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), clientMillis);
        assertThat(received).as("requests the app got (path, length, sha256)").isEqualTo(load.sent);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  enum Victim {
    CLI,
    AGENT,
    APP
  }

  /**
   * A paced keep-alive load (about 2 000 requests in 6 s) against the pod; mid-load one of mirrord's processes (or the
   * app) is killed with {@code kill -9}. The pod must answer every request, each on the first try: mirroring never
   * sits in the remote path.
   */
  @ParameterizedTest(name = "kill -9 of the {0}")
  @EnumSource(Victim.class)
  void killMinus9MidLoadLosesNoRemoteRequest(Victim victim, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    in.startPodKeepAliveServer();
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of(),
        IncomingLab.java(ShaHttpServerApp.class, Integer.toString(KEEPALIVE_PORT), "local", "120"))) {
      try {
        s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        try (LabProcess client = in.client(IncomingLab.javaForLoad(HttpLoadClient.class, "host=" + in.podIp(),
            "port=" + KEEPALIVE_PORT, "connections=4", "requests=2000", "maxBody=65536", "verifySha=true",
            "retry=false", "expect=pod", "seed=" + (20 + victim.ordinal()), "pauseMillis=10", "progressEvery=100",
            "deadline=60"))) {
          client.awaitStdout("^progress 500$", Duration.ofSeconds(30));
          switch (victim) {
            case CLI -> s.signalCli("KILL");
            case AGENT -> s.killAgent();
            case APP -> IncomingLab.kill("KILL", s.appPid());
          }
          long killedAt = System.nanoTime();
          client.waitFor(Duration.ofSeconds(90));
          String summary = client.awaitStdout("^" + HttpLoadClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group();
          System.out.printf(Locale.ROOT, "[mirror] kill -9 of the %s after 500 of 2000 requests: %s (%d ms after the kill)%n",
              victim, summary, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
          assertThat(summary).as(client.outputForHumans())
              .contains("requests=2000 ok=2000 bad=0 failed=0 retries=0 connects=4 ");
        }
        long mirrored = s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX)).count();
        assertThat(mirrored).as("requests mirrored before the kill").isGreaterThan(0);
        if (victim != Victim.APP) {
          Awaitility.await("the agent exits").atMost(Duration.ofSeconds(10))
              .until(() -> !IncomingLab.alive(s.agentPid()));
          assertThat(in.mirrordProcessesInPod()).isEmpty();
        }
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  record LoadResult(String summary, Map<String, Integer> sent) {}

  /**
   * Runs HttpLoadClient in the client namespace to the pod (its IPv4 address unless {@code args} name another {@code
   * host=}), with printSent; returns its summary and what it sent.
   */
  static LoadResult runLoad(IncomingLab in, String... args) {
    List<String> all = new ArrayList<>(List.of("host=" + in.podIp(), "expect=pod", "retry=false", "printSent=true"));
    all.addAll(List.of(args));
    try (LabProcess client = in.client(IncomingLab.javaForLoad(HttpLoadClient.class, all.toArray(String[]::new)))) {
      int exit = client.waitFor(Duration.ofSeconds(200));
      String summary = client.awaitStdout("^" + HttpLoadClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group();
      assertThat(exit).as(client.outputForHumans()).isZero();
      Map<String, Integer> sent = new TreeMap<>();
      client.stdout().lines().filter(l -> l.startsWith("sent ")).map(l -> l.split(" "))
          .forEach(w -> sent.merge("/load/" + w[1] + " " + w[2] + " " + w[3], 1, Integer::sum));
      return new LoadResult(summary, sent);
    }
  }

  /** The app's {@code /load/} requests as a multiset of "path length sha", once it has as many as {@code expected}. */
  static Map<String, Integer> awaitArrived(MirrordSession s, Map<String, Integer> expected, Duration timeout) {
    int want = expected.values().stream().mapToInt(Integer::intValue).sum();
    Awaitility.await("the app got " + want + " requests").atMost(timeout).pollInterval(Duration.ofMillis(200))
        .until(() -> received(s).values().stream().mapToInt(Integer::intValue).sum() >= want);
    // A moment more: a duplicate would show up now.
    sleep(300);
    return received(s);
  }

  private static Map<String, Integer> received(MirrordSession s) {
    Map<String, Integer> got = new TreeMap<>();
    s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX + "POST /load/"))
        .map(l -> l.split(" "))
        .forEach(w -> got.merge(w[2] + " " + w[3] + " " + w[4], 1, Integer::sum));
    return got;
  }

  static List<String> peers(MirrordSession s) {
    return s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX + "POST /load/"))
        .map(l -> l.split(" ")[5]).distinct().toList();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
