package dev.mirrord.jvm.e2e.incoming;

import static dev.mirrord.jvm.e2e.incoming.IncomingLab.POD_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.JettyPeerApp;
import dev.mirrord.jvm.e2e.apps.ReactorNettyPeerApp;
import dev.mirrord.jvm.e2e.apps.StackApps;
import dev.mirrord.jvm.e2e.apps.TomcatPeerApp;
import dev.mirrord.jvm.e2e.apps.VertxPeerApp;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 13, "Done when": real third-party servers that no one here wrote — embedded Tomcat 11 (NIO connector, what
 * Spring Boot runs), Reactor Netty (what Spring WebFlux runs, on its native epoll transport), Jetty 12 and Vert.x 5
 * (Quarkus' HTTP layer) — under {@code mirrord exec --target pid/<pod>}, mirror, steal and an HTTP-filtered steal,
 * each on the pod's port 8080 in a dev namespace:
 *
 * <ul>
 *   <li>the developer's own local client ({@code curl http://127.0.0.1:8080/}, fresh connections) gets its answer as
 *       fast as without mirrord: the median of {@value #LOCAL_REQUESTS} requests under mirrord is within {@value
 *       #TOLERANCE_MILLIS} ms of the median without it (measured the same way in the same test; a correctness check
 *       against the one-second stall the layer used to add to every connection, not a benchmark), and the app sees the
 *       local client as it is (127.0.0.1);
 *   <li>the lab client's requests to the pod reach the app with the real client, 198.18.0.100, as the peer ({@code
 *       getRemoteAddr()} / {@code remoteAddress()}): in its answer under steal, in its log under mirror; under an
 *       HTTP header filter too, where the CLI replays each matched request to the app on a connection of its own
 *       (the requests without the header are answered by the pod).
 * </ul>
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ThirdPartyStacksE2EIT {
  static final int LOCAL_REQUESTS = 9;
  static final long TOLERANCE_MILLIS = 20;
  static final String DEV_HEADER = "X-Dev: me";

  enum Stack {
    /** Tomcat on 0.0.0.0 (an IPv4 listener). */
    TOMCAT(TomcatPeerApp.class, "0.0.0.0"),
    /** Reactor Netty on :: (dual-stack: native epoll reports IPv4 peers as ::ffff:a.b.c.d). */
    REACTOR_NETTY(ReactorNettyPeerApp.class, "::"),
    /** Jetty 12 on 0.0.0.0 (its own NIO connector). */
    JETTY(JettyPeerApp.class, "0.0.0.0"),
    /** Vert.x 5 on :: (Netty NIO underneath: IPv4 peers come as IPv4 addresses). */
    VERTX(VertxPeerApp.class, "::");

    final Class<?> main;
    final String listen;

    Stack(Class<?> main, String listen) {
      this.main = main;
      this.listen = listen;
    }

    List<String> command() {
      return JavaApps.libraryCommand17(main, Integer.toString(POD_PORT), listen, "local");
    }
  }

  enum Mode {
    MIRROR(List.of()),
    STEAL(List.of("--tcp-steal")),
    /** Steal of the requests with {@value #DEV_HEADER}: the CLI replays them to the app on its own connections. */
    FILTER(List.of("--http-header-filter", "^x-dev: me$"));

    final List<String> flags;

    Mode(List<String> flags) {
      this.flags = flags;
    }
  }

  static List<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Stack stack : Stack.values()) {
      for (Mode mode : Mode.values()) {
        out.add(Arguments.of(stack, mode));
      }
    }
    return out;
  }

  private static IncomingLab incoming;
  /** Median local latency without mirrord, per stack (measured once per lab). */
  private static final Map<Stack, Double> baseline = new EnumMap<>(Stack.class);

  private static synchronized IncomingLab incoming(NetnsLab lab) {
    if (incoming == null || incoming.lab() != lab) {
      incoming = new IncomingLab(lab);
      baseline.clear();
    }
    return incoming;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void localRequestsCostNothingExtraAndRemoteOnesShowTheRealClient(Stack stack, Mode mode, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    String ns = in.devNamespace("local");
    double without = baseline(in, ns, stack);
    try (MirrordSession s = in.mirrord(ns, mode.flags, stack.command())) {
      try {
        s.awaitApp("^" + StackApps.READY_PREFIX, IncomingLab.START);
        LocalRun local = local(in, ns, "/under-mirrord");
        System.out.printf(Locale.ROOT, "[stacks] %s %s: local request median %.2f ms under mirrord, %.2f ms without"
            + " (all under mirrord: %s)%n", stack, mode, local.medianMillis, without, local.millis);
        assertThat(local.body).as("the local client is seen as it is").contains("peer=127.0.0.1:");
        assertThat(local.medianMillis - without)
            .as("median local latency under mirrord minus without (ms): %s", local.millis)
            .isLessThan(TOLERANCE_MILLIS);

        String client = lab.ip(Node.CLIENT);
        for (int i = 0; i < 3; i++) {
          String path = "/remote" + i;
          String answer = mode == Mode.FILTER
              ? in.curlPodWith(POD_PORT, path, DEV_HEADER, Duration.ofSeconds(5))
              : in.curlPod(POD_PORT, path, Duration.ofSeconds(5));
          if (mode != Mode.MIRROR) {
            assertThat(answer).startsWith("hello from local: peer=" + client + ":").endsWith(" path=" + path + "\n");
          } else {
            assertThat(answer).isEqualTo("hello from pod: GET " + path + "\n");
          }
          Awaitility.await("the app logs " + path).atMost(Duration.ofSeconds(10))
              .until(() -> s.stdout().contains("stack.req " + path + " "));
          assertThat(s.stdout().lines().filter(l -> l.startsWith("stack.req " + path + " ")))
              .as("the peer the app saw for " + path)
              .singleElement().asString().startsWith("stack.req " + path + " " + client + " ");
        }
        if (mode == Mode.FILTER) {
          assertThat(in.curlPod(POD_PORT, "/unmatched", Duration.ofSeconds(5)))
              .isEqualTo("hello from pod: GET /unmatched\n");
          assertThat(s.stdout()).doesNotContain("stack.req /unmatched ");
        }
        s.signalCli("INT");
        s.process().waitFor(Duration.ofSeconds(20));
        Awaitility.await("nothing of the session left").atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> {
              assertThat(s.liveProcesses()).isEmpty();
              assertThat(IncomingLab.processesIn(ns)).isEmpty();
              assertThat(in.mirrordProcessesInPod()).isEmpty();
            });
        assertThat(s.stderr()).as("no line from the layer after a clean end").doesNotContain("mirrord: lost");
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
    assertThat(in.mirrordRules()).isEmpty();
  }

  /** The stack's median local latency without mirrord, measured once. */
  private static double baseline(IncomingLab in, String ns, Stack stack) {
    Double known = baseline.get(stack);
    if (known != null) {
      return known;
    }
    try (LabProcess app = in.lab().exec(ns, Map.of(), stack.command())) {
      app.awaitStdout("^" + StackApps.READY_PREFIX, IncomingLab.START);
      LocalRun run = local(in, ns, "/without");
      System.out.printf(Locale.ROOT, "[stacks] %s without mirrord: local request median %.2f ms (%s)%n", stack,
          run.medianMillis, run.millis);
      assertThat(run.body).contains("peer=127.0.0.1:");
      baseline.put(stack, run.medianMillis);
      app.stop(Duration.ofSeconds(5));
      return run.medianMillis;
    }
  }

  private record LocalRun(List<Double> millis, double medianMillis, String body) {}

  /**
   * {@value #LOCAL_REQUESTS} requests (after 3 not counted) from {@code curl} in the dev namespace to the app on
   * 127.0.0.1, each on a fresh connection ({@code Connection: close}); curl's own {@code time_total}, so the process
   * starts are not counted.
   */
  private static LocalRun local(IncomingLab in, String ns, String path) {
    String script = "for i in $(seq 1 " + (LOCAL_REQUESTS + 3) + "); do curl -sS --max-time 5 -o /dev/null"
        + " -w '%{time_total}\\n' -H 'Connection: close' http://127.0.0.1:" + POD_PORT + path + "$i || echo fail;"
        + " done; curl -sS --max-time 5 http://127.0.0.1:" + POD_PORT + path;
    try (LabProcess p = in.lab().exec(ns, Map.of(), List.of("bash", "-c", script))) {
      assertThat(p.waitFor(Duration.ofSeconds(90))).as(p.outputForHumans()).isZero();
      List<String> lines = p.stdout().lines().toList();
      assertThat(lines).as(p.outputForHumans()).hasSizeGreaterThan(LOCAL_REQUESTS + 3).doesNotContain("fail");
      List<Double> millis = lines.subList(3, LOCAL_REQUESTS + 3).stream()
          .map(l -> Double.parseDouble(l) * 1000).toList();
      List<Double> sorted = millis.stream().sorted().toList();
      String body = String.join("\n", lines.subList(LOCAL_REQUESTS + 3, lines.size()));
      return new LocalRun(millis, sorted.get(sorted.size() / 2), body);
    }
  }
}
