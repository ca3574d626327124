package dev.mirrord.jvm.e2e.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.GrpcEchoApp;
import dev.mirrord.jvm.e2e.apps.GrpcMixClient;
import dev.mirrord.jvm.e2e.apps.GrpcPausingClient;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP-filtered steal of h2c (issue 15: "HTTP/2 h2c with a gRPC-java client and server (unary and streaming) matched on
 * a metadata header"). The pod's server is a gRPC-java {@link GrpcEchoApp} ("pod") in the pod namespace; alice and bob
 * each run one under {@code mirrord exec --http-header-filter '^x-dev: NAME$'} (two agents: the newest gets every
 * connection and passes its unmatched streams on to the older one, which passes its own on to the pod). One
 * {@link GrpcMixClient} channel (one HTTP/2 connection) mixes everyone's calls; each answer is checked by content.
 * All run on JDK 17 (the gRPC jars' and the layer's floor).
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GrpcFilterE2EIT {
  static final int PORT = 50051;

  /** A client that overflows the agent's send window (WINDOW_UPDATE of 2^31-1 on stream 0): FLOW_CONTROL_ERROR. */
  static final String FLOW_CONTROL_VIOLATION = "printf 'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n"
      + "\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x00\\x00" // SETTINGS, empty
      + "\\x00\\x00\\x04\\x08\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\\xff\\xff'"; // WINDOW_UPDATE stream 0 +2^31-1

  /** A GOAWAY frame (type 7, flags 0, stream 0) with error code 3 (FLOW_CONTROL_ERROR), in hex. */
  static final Pattern GOAWAY_FLOW_CONTROL = Pattern.compile("070000000000[0-9a-f]{8}00000003");

  private static MirrordSession dev(IncomingLab in, String ns, String name) {
    MirrordSession s = in.mirrord(in.devNamespace(ns), List.of("--http-header-filter", "^x-dev: " + name + "$"),
        JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(PORT), name, "280"));
    s.awaitApp("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
    return s;
  }

  private static List<String> calls(String stdout) {
    return stdout.lines().filter(l -> l.startsWith(GrpcEchoApp.CALL_PREFIX)).toList();
  }

  @Test
  void grpcCallsOnOneConnectionGoToTheSessionWhoseMetadataFilterMatchesAndTheRestToThePod(NetnsLab lab) {
    IncomingLab in = new IncomingLab(lab);
    try (LabProcess pod = lab.startInPod(JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(PORT), "pod",
            "280").toArray(String[]::new));
        MirrordSession alice = dev(in, "local", "alice");
        MirrordSession bob = dev(in, "local2", "bob")) {
      try {
        pod.awaitStdout("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
        String summary;
        try (LabProcess mix = in.client(JavaApps.libraryCommand17(GrpcMixClient.class, "host=" + in.podIp(),
            "port=" + PORT, "calls=300", "seed=15", "devs=alice,bob", "big=alice,pod", "parallel=8"))) {
          // Clients that break HTTP/2 flow control, while the mix runs: Netty answers GOAWAY, only they are cut.
          for (int i = 0; i < 3; i++) {
            ExecResult bad = lab.run(Node.CLIENT, Duration.ofSeconds(20), "bash", "-c", FLOW_CONTROL_VIOLATION
                + " | socat -t 5 - TCP:" + in.podIp() + ":" + PORT + " | od -An -v -tx1 | tr -d ' \\n'");
            assertThat(bad.stdout()).as("what the bad client got back: %s", bad).containsPattern(GOAWAY_FLOW_CONTROL);
          }
          assertThat(mix.waitFor(Duration.ofSeconds(180))).as(mix.outputForHumans()).isZero();
          summary = mix.awaitStdout("^" + GrpcMixClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group();
          System.out.println("[grpc-filter] " + summary + "\n" + mix.stdout().lines()
              .filter(l -> l.startsWith("grpc-big")).collect(Collectors.joining("\n")));
        }
        Matcher m = Pattern.compile("calls=(\\d+) ok=(\\d+) bad=0 alice=(\\d+) bob=(\\d+) pod=(\\d+)").matcher(summary);
        assertThat(m.find()).as(summary).isTrue();
        assertThat(m.group(1)).isEqualTo(m.group(2));
        // Each server saw exactly the calls it answered (the client checked every answer's content).
        Awaitility.await("every call line written").atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
          assertThat(calls(alice.stdout())).as("alice's calls").hasSize(Integer.parseInt(m.group(3)));
          assertThat(calls(bob.stdout())).as("bob's calls").hasSize(Integer.parseInt(m.group(4)));
          assertThat(calls(pod.stdout())).as("the pod's calls").hasSize(Integer.parseInt(m.group(5)));
        });
        assertThat(calls(alice.stdout())).allMatch(l -> l.contains("x-dev=alice"));
        assertThat(calls(bob.stdout())).allMatch(l -> l.contains("x-dev=bob"));
        assertThat(calls(pod.stdout())).allMatch(l -> l.contains("x-dev=null"));
        // The client's one connection stays one on every hop: one h2c connection per client connection.
        Set<String> podPeers = calls(pod.stdout()).stream().map(l -> l.replaceAll(".* peer=(\\S+) .*", "$1"))
            .collect(Collectors.toSet());
        assertThat(podPeers).as("connections the pod's calls came on").hasSize(1);
        Set<String> alicePeers = calls(alice.stdout()).stream().map(l -> l.replaceAll(".* peer=(\\S+) .*", "$1"))
            .collect(Collectors.toSet());
        assertThat(alicePeers).as("connections alice's calls came on").hasSize(1);
        // The peer each app sees: bob's agent (the newest) gets the client's connection, so bob's app sees the real
        // client; alice's agent gets what bob's passed through, from the pod's own address (as the pod's server does).
        assertThat(calls(bob.stdout())).allMatch(l -> l.contains(" peer=/" + lab.ip(Node.CLIENT) + ":"));
        assertThat(alicePeers.iterator().next()).startsWith("/" + lab.ip(Node.POD) + ":");
        // One log line per bad connection, in the agent that got it (the newest: bob's).
        String logs = alice.agentLog() + bob.agentLog();
        assertThat(logs.lines().filter(l -> l.contains("HTTP/2 protocol error"))).hasSize(3);
        System.out.println("[grpc-filter] flow-control violations: " + logs.lines()
            .filter(l -> l.contains("HTTP/2 protocol error")).findFirst().orElse(""));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- pod:\n" + pod.outputForHumans() + "\n--- alice:\n"
            + alice.outputForHumans() + "\n--- bob:\n" + bob.outputForHumans(), e);
      }
    }
    Awaitility.await("no MIRRORD rule left").atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(in.mirrordRules()).isEmpty());
  }

  /**
   * The session's app closes idle connections (gRPC-java's {@code maxConnectionIdle}: GOAWAY): the CLI's next
   * matched call opens a new connection to it, on the same client connection, instead of failing.
   */
  @Test
  void matchedCallsThatCrossTheLocalAppsIdleGoAwaysStillReachIt(NetnsLab lab) {
    IncomingLab in = new IncomingLab(lab);
    int port = PORT + 2;
    try (LabProcess pod = lab.startInPod(JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(port), "pod",
            "120").toArray(String[]::new));
        MirrordSession ivy = in.mirrord(in.devNamespace("local"), List.of("--http-header-filter", "^x-dev: ivy$"),
            JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(port), "ivy", "120", "idleMs=500"))) {
      try {
        pod.awaitStdout("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
        ivy.awaitApp("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
        try (LabProcess client = in.client(JavaApps.libraryCommand17(GrpcPausingClient.class, in.podIp(),
            Integer.toString(port), "ivy", "4", "1500"))) {
          assertThat(client.waitFor(Duration.ofSeconds(90))).as(client.outputForHumans()).isZero();
          System.out.println("[grpc-filter] idle GOAWAYs: " + client.stdout().lines().toList());
        }
        assertThat(calls(ivy.stdout())).hasSize(4);
        assertThat(calls(pod.stdout())).isEmpty();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- pod:\n" + pod.outputForHumans() + "\n--- ivy:\n"
            + ivy.outputForHumans(), e);
      }
    }
  }

  /** Mirror mode with a filter: the pod answers every call, fay's app gets copies of the calls with her header. */
  @Test
  void mirrorWithAFilterCopiesOnlyTheMatchedGrpcCalls(NetnsLab lab) throws Exception {
    IncomingLab in = new IncomingLab(lab);
    int port = PORT + 1;
    java.nio.file.Path config = lab.logDir().resolve("grpc-mirror-filter.json");
    java.nio.file.Files.writeString(config,
        "{\"incoming\": {\"mode\": \"mirror\", \"http_filter\": {\"header_filter\": \"^x-dev: fay$\"}}}");
    try (LabProcess pod = lab.startInPod(JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(port), "pod",
            "200").toArray(String[]::new));
        MirrordSession fay = in.mirrord(in.devNamespace("local"), List.of("-f", config.toString()),
            JavaApps.libraryCommand17(GrpcEchoApp.class, Integer.toString(port), "fay", "200"))) {
      try {
        pod.awaitStdout("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
        fay.awaitApp("^" + GrpcEchoApp.READY_PREFIX, IncomingLab.START);
        String summary;
        try (LabProcess mix = in.client(JavaApps.libraryCommand17(GrpcMixClient.class, "host=" + in.podIp(),
            "port=" + port, "calls=60", "seed=16", "devs=fay", "answeredBy=pod", "parallel=4"))) {
          assertThat(mix.waitFor(Duration.ofSeconds(120))).as(mix.outputForHumans()).isZero();
          summary = mix.awaitStdout("^" + GrpcMixClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group();
        }
        System.out.println("[grpc-filter] mirror: " + summary);
        Matcher m = Pattern.compile("bad=0 fay=(\\d+) pod=(\\d+)").matcher(summary);
        assertThat(m.find()).as(summary).isTrue();
        int fays = Integer.parseInt(m.group(1));
        assertThat(calls(pod.stdout())).as("the pod answered every call").hasSize(fays + Integer.parseInt(m.group(2)));
        Awaitility.await("fay's app saw the " + fays + " matched copies").atMost(Duration.ofSeconds(15))
            .untilAsserted(() -> assertThat(calls(fay.stdout())).hasSize(fays));
        assertThat(calls(fay.stdout())).allMatch(l -> l.contains("x-dev=fay"));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- pod:\n" + pod.outputForHumans() + "\n--- fay:\n"
            + fay.outputForHumans(), e);
      }
    }
  }
}
