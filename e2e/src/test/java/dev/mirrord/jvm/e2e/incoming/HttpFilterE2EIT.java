package dev.mirrord.jvm.e2e.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.FilterMixClient;
import dev.mirrord.jvm.e2e.apps.RawShaHttpServerApp;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP-filtered steal (issue 15, "Done when"): several developers on one target port, the pod keeps every other
 * request byte for byte. The pod's server here is {@link RawShaHttpServerApp} (keep-alive, answers with the SHA-256
 * of the exact request bytes it read) on {@link #PORT}; each developer's app is a {@link ShaHttpServerApp} under
 * {@code mirrord exec --http-header-filter …} in its own dev namespace.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HttpFilterE2EIT {
  static final int PORT = 8084;

  private static IncomingLab incoming;
  private static LabProcess podServer;

  private static synchronized IncomingLab incoming(NetnsLab lab) {
    if (incoming == null || incoming.lab() != lab) {
      incoming = new IncomingLab(lab);
      podServer = lab.startInPod(IncomingLab.java(RawShaHttpServerApp.class, Integer.toString(PORT), "pod", "900",
          "quiet").toArray(String[]::new));
      podServer.awaitStdout("^" + RawShaHttpServerApp.READY_PREFIX, IncomingLab.START);
    }
    return incoming;
  }

  private static MirrordSession dev(IncomingLab in, String ns, String name, List<String> flags) {
    MirrordSession s = in.mirrord(in.devNamespace(ns), flags,
        IncomingLab.java(ShaHttpServerApp.class, Integer.toString(PORT), name, "280"));
    s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
    return s;
  }

  private static String mix(IncomingLab in, String... args) {
    List<String> a = new ArrayList<>(List.of("host=" + in.podIp(), "port=" + PORT));
    a.addAll(List.of(args));
    try (LabProcess client = in.client(IncomingLab.javaForLoad(FilterMixClient.class, a.toArray(String[]::new)))) {
      client.waitFor(Duration.ofSeconds(150));
      return client.awaitStdout("^" + FilterMixClient.SUMMARY_PREFIX + ".*$", Duration.ofSeconds(5)).group()
          + "\n" + client.outputForHumans();
    }
  }

  private static long requestsSeen(MirrordSession s) {
    return s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX)).count();
  }

  @Test
  void twoDevelopersAndThePodShareOnePortOverKeepAliveConnectionsThenHandBack(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession alice = dev(in, "local", "alice", List.of("--http-header-filter", "^x-dev: alice$"));
        MirrordSession bob = dev(in, "local2", "bob", List.of("--http-header-filter", "^x-dev: bob$"))) {
      try {
        // 600 requests on 6 keep-alive connections, each connection mixing alice's, bob's and nobody's.
        String summary = mix(in, "connections=6", "requests=600", "seed=7");
        System.out.println("[http-filter] two sessions: " + summary.lines().findFirst().orElse(""));
        assertThat(summary).startsWith("summary requests=600 ok=600 bad=0 failed=0");
        Matcher m = Pattern.compile("alice=(\\d+) bob=(\\d+) pod=(\\d+)").matcher(summary);
        assertThat(m.find()).as(summary).isTrue();
        assertThat(requestsSeen(alice)).as("requests alice's app saw").isEqualTo(Long.parseLong(m.group(1)));
        assertThat(requestsSeen(bob)).as("requests bob's app saw").isEqualTo(Long.parseLong(m.group(2)));
        assertThat(Long.parseLong(m.group(3))).as("requests the pod answered").isGreaterThan(100);

        // Both redirects are ours, marked as HTTP-filtered; a whole-port steal is refused naming a session.
        assertThat(in.mirrordRules()).filteredOn(r -> r.contains("--dport " + PORT) && r.contains("mirrord-http"))
            .hasSizeGreaterThanOrEqualTo(2);
        try (MirrordSession whole = in.mirrord(in.devNamespace("local3"), List.of("--tcp-steal"),
            IncomingLab.java(ShaHttpServerApp.class, Integer.toString(PORT), "whole", "60"))) {
          whole.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
          Pattern error = Pattern.compile("(?m)^mirrord: error: .*\\b" + PORT + "\\b.*$");
          Matcher e = Awaitility.await("the whole-port session's error line").atMost(Duration.ofSeconds(15))
              .until(() -> error.matcher(whole.stderr()), Matcher::find);
          System.out.println("[http-filter] whole-port steal refused: " + e.group());
          assertThat(e.group()).contains("HTTP filter").contains("session");
          whole.signalCli("INT");
          whole.process().waitFor(Duration.ofSeconds(15));
        }

        // Alice ends: her requests go to the pod now, bob keeps his.
        alice.signalCli("INT");
        assertThat(alice.process().waitFor(Duration.ofSeconds(20))).isEqualTo(130);
        String after = mix(in, "connections=3", "requests=90", "seed=8", "route=alice=pod");
        System.out.println("[http-filter] after alice left: " + after.lines().findFirst().orElse(""));
        assertThat(after).startsWith("summary requests=90 ok=90 bad=0 failed=0");

        bob.signalCli("INT");
        assertThat(bob.process().waitFor(Duration.ofSeconds(20))).isEqualTo(130);
        Awaitility.await("no MIRRORD rule left").atMost(Duration.ofSeconds(5))
            .untilAsserted(() -> assertThat(in.mirrordRules()).isEmpty());
        String last = mix(in, "connections=2", "requests=30", "seed=9", "route=alice=pod,bob=pod");
        assertThat(last).startsWith("summary requests=30 ok=30 bad=0 failed=0");
        assertThat(in.mirrordProcessesInPod()).isEmpty();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- alice:\n" + alice.outputForHumans() + "\n--- bob:\n"
            + bob.outputForHumans(), e);
      }
    }
  }

  /**
   * A {@code mirrord.json} in mirrord's own layout (what a team already has): steal with an {@code any_of} filter (a
   * path or a header) on {@code ports: [8084]} only, a {@code port_mapping}, and keys we do not implement (warned
   * about, one line each; mirrord's {@code agent.ttl} is honoured). Port 8081, not in {@code ports}, is stolen whole.
   */
  @Test
  void aMirrordJsonWrittenForMirrordRunsUnchanged(NetnsLab lab) throws Exception {
    IncomingLab in = incoming(lab);
    in.startPodKeepAliveServer();
    java.nio.file.Path config = lab.logDir().resolve("mirrord-layout.json");
    java.nio.file.Files.writeString(config, """
        {
          "target": {"path": "pod/web/container/app", "namespace": "default"},
          "feature": {
            "network": {
              "incoming": {
                "mode": "steal",
                "http_filter": {"any_of": [{"path": "^/carol/"}, {"header": "^x-dev: carol$"}], "ports": [8084]},
                "port_mapping": [[9094, 8084]]
              },
              "outgoing": true,
              "dns": true
            },
            "env": true,
            "fs": "read"
          },
          "agent": {"ttl": 2}
        }
        """);
    List<String> apps = List.of("bash", "-c", String.join(" ", IncomingLab.java(ShaHttpServerApp.class, "9094", "carol",
        "200")) + " & exec " + String.join(" ", IncomingLab.java(ShaHttpServerApp.class,
        Integer.toString(IncomingLab.KEEPALIVE_PORT), "whole", "200")));
    try (MirrordSession carol = in.mirrord(in.devNamespace("local"), List.of("-f", config.toString()), apps)) {
      try {
        carol.awaitApp("^" + ShaHttpServerApp.READY_PREFIX + "9094", IncomingLab.START);
        carol.process().awaitStdout("^" + ShaHttpServerApp.READY_PREFIX + IncomingLab.KEEPALIVE_PORT, IncomingLab.START);
        assertThat(in.curlPod(PORT, "/carol/a", Duration.ofSeconds(5))).isEqualTo("hello from carol: GET /carol/a\n");
        assertThat(in.curlPodWith(PORT, "/b", "X-Dev: carol", Duration.ofSeconds(5)))
            .isEqualTo("hello from carol: GET /b\n");
        assertThat(in.curlPod(PORT, "/b", Duration.ofSeconds(5))).isEqualTo("hello from pod: GET /b\n");
        assertThat(in.curlPod(IncomingLab.KEEPALIVE_PORT, "/c", Duration.ofSeconds(5)))
            .isEqualTo("hello from whole: GET /c\n");
        assertThat(carol.stderr()).contains("mirrord: warning: config: mirrord's key 'feature.fs' is not supported")
            .doesNotContain("'agent.ttl'");
        long agent = carol.keepAgent();
        carol.signalCli("INT");
        assertThat(carol.process().waitFor(Duration.ofSeconds(20))).isEqualTo(130);
        // mirrord's agent.ttl is ours too: the agent stays 2 s for a next session, then leaves with its chains
        assertThat(java.nio.file.Files.readString(carol.dir().resolve("mirrord.log")))
            .contains("stays 2 s after each session");
        org.awaitility.Awaitility.await("the agent leaves after agent.ttl").atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(100)).until(() -> !IncomingLab.alive(agent));
        assertThat(in.mirrordRules()).isEmpty();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- carol:\n" + carol.outputForHumans(), e);
      }
    }
  }

  /** A WebSocket upgrade: matched, the rest of the connection is the session's; unmatched, the pod's. */
  @Test
  void aWebSocketUpgradeMatchedGoesToTheSessionAndUnmatchedToThePod(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    int wsPort = 8086;
    try (LabProcess podWs = lab.startInPod(IncomingLab.java(dev.mirrord.jvm.e2e.apps.WebSocketEchoApp.class,
            Integer.toString(wsPort), "pod", "200").toArray(String[]::new));
        MirrordSession dave = in.mirrord(in.devNamespace("local"), List.of("--http-header-filter", "^x-dev: dave$"),
            IncomingLab.java(dev.mirrord.jvm.e2e.apps.WebSocketEchoApp.class, Integer.toString(wsPort), "dave",
                "200"))) {
      try {
        podWs.awaitStdout("^" + dev.mirrord.jvm.e2e.apps.WebSocketEchoApp.READY_PREFIX, IncomingLab.START);
        dave.awaitApp("^" + dev.mirrord.jvm.e2e.apps.WebSocketEchoApp.READY_PREFIX, IncomingLab.START);
        String uri = "ws://" + in.podIp() + ":" + wsPort + "/ws";
        try (LabProcess matched = in.client(IncomingLab.java(dev.mirrord.jvm.e2e.apps.WebSocketClient.class, uri, "5",
                "X-Dev", "dave"));
            LabProcess unmatched = in.client(IncomingLab.java(dev.mirrord.jvm.e2e.apps.WebSocketClient.class, uri,
                "5"))) {
          assertThat(matched.waitFor(Duration.ofSeconds(30))).as(matched.outputForHumans()).isZero();
          assertThat(unmatched.waitFor(Duration.ofSeconds(30))).as(unmatched.outputForHumans()).isZero();
          assertThat(matched.stdout().lines().toList()).containsExactly("ws dave: m1", "ws dave: m2", "ws dave: m3",
              "ws dave: m4", "ws dave: m5");
          assertThat(unmatched.stdout().lines().toList()).containsExactly("ws pod: m1", "ws pod: m2", "ws pod: m3",
              "ws pod: m4", "ws pod: m5");
        }
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- dave:\n" + dave.outputForHumans(), e);
      }
    }
  }

  /** 64 MiB up and down through one matched request each, checksummed at both ends. */
  @Test
  void sixtyFourMibUploadAndDownloadThroughMatchedRequests(NetnsLab lab) throws Exception {
    IncomingLab in = incoming(lab);
    java.nio.file.Path file = lab.logDir().resolve("upload-64m.bin");
    try (MirrordSession erin = dev(in, "local", "erin", List.of("--http-header-filter", "^x-dev: erin$"))) {
      try {
        String url = "http://" + in.podIp() + ":" + PORT;
        String script = String.join("; ",
            "set -e",
            "head -c 67108864 /dev/urandom > " + file,
            "echo file $(sha256sum < " + file + " | cut -d' ' -f1)",
            "curl -sS --max-time 120 -D - -o /dev/null -H 'X-Dev: erin' --data-binary @" + file + " " + url + "/up"
                + " | tr -d '\\r' | grep -i -E '^x-body-(sha256|length):'",
            "curl -sS --max-time 120 -D " + file + ".hdr -H 'X-Dev: erin' " + url + "/bytes/67108864"
                + " | sha256sum | cut -d' ' -f1 | sed 's/^/got /'",
            "tr -d '\\r' < " + file + ".hdr | grep -i '^x-out-sha256:'");
        ExecResult r = lab.run(Node.CLIENT, Duration.ofSeconds(200), "bash", "-c", script);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        String out = r.stdout().toLowerCase(Locale.ROOT);
        Matcher file256 = Pattern.compile("file ([0-9a-f]{64})").matcher(out);
        Matcher up = Pattern.compile("x-body-sha256: ([0-9a-f]{64})").matcher(out);
        Matcher got = Pattern.compile("got ([0-9a-f]{64})").matcher(out);
        Matcher sent = Pattern.compile("x-out-sha256: ([0-9a-f]{64})").matcher(out);
        assertThat(file256.find() && up.find() && got.find() && sent.find()).as(out).isTrue();
        assertThat(up.group(1)).as("upload checksum at the app").isEqualTo(file256.group(1));
        assertThat(out).contains("x-body-length: 67108864");
        assertThat(got.group(1)).as("download checksum at the client").isEqualTo(sent.group(1));
        System.out.println("[http-filter] 64 MiB upload and download through matched requests: checksums equal");
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- erin:\n" + erin.outputForHumans(), e);
      } finally {
        java.nio.file.Files.deleteIfExists(file);
        java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(file + ".hdr"));
      }
    }
  }

  /**
   * Two developers on one port at once, one mirroring and one stealing with a filter: each request reaches the
   * mirroring app once. The filtering agent hands unmatched requests to the pod's server over the pod's loopback,
   * which the capture also sees; those hops carry the agents' DSCP and are not mirrored again (before: every
   * unmatched request was copied twice).
   */
  @Test
  void aMirrorSessionBesideAFilteredOneGetsEachRequestOnce(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession gus = dev(in, "local", "gus", List.of());
        MirrordSession hal = dev(in, "local2", "hal", List.of("--http-header-filter", "^x-dev: hal$"))) {
      try {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          assertThat(in.curlPodWith(PORT, "/hal/" + i, "X-Dev: hal", Duration.ofSeconds(5)))
              .isEqualTo("hello from hal: GET /hal/" + i + "\n");
          assertThat(in.curlPod(PORT, "/other/" + i, Duration.ofSeconds(5)))
              .isEqualTo("hello from pod: GET /other/" + i + "\n");
          paths.add("/hal/" + i);
          paths.add("/other/" + i);
        }
        Awaitility.await("the mirroring app saw the 10 requests").atMost(Duration.ofSeconds(10))
            .until(() -> requestsSeen(gus) >= 10);
        Awaitility.await("no second copy").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
            .until(() -> requestsSeen(gus) == 10);
        assertThat(gus.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX))
            .map(l -> l.split(" ")[2])).containsExactlyInAnyOrderElementsOf(paths);
        assertThat(requestsSeen(hal)).isEqualTo(5);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- gus:\n" + gus.outputForHumans() + "\n--- hal:\n"
            + hal.outputForHumans(), e);
      }
    }
  }

  /** Mirror mode with a filter: the pod answers everything, the app gets copies of the matched requests only. */
  @Test
  void mirrorWithAFilterCopiesOnlyTheMatchedRequests(NetnsLab lab) throws Exception {
    IncomingLab in = incoming(lab);
    java.nio.file.Path config = lab.logDir().resolve("mirror-filter.json");
    java.nio.file.Files.writeString(config,
        "{\"incoming\": {\"mode\": \"mirror\", \"http_filter\": {\"header_filter\": \"^x-dev: fay$\"}}}");
    try (MirrordSession fay = in.mirrord(in.devNamespace("local"), List.of("-f", config.toString()),
        IncomingLab.java(ShaHttpServerApp.class, Integer.toString(PORT), "fay", "200"))) {
      try {
        fay.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        for (int i = 0; i < 5; i++) {
          assertThat(in.curlPodWith(PORT, "/fay/" + i, "X-Dev: fay", Duration.ofSeconds(5)))
              .isEqualTo("hello from pod: GET /fay/" + i + "\n");
          assertThat(in.curlPod(PORT, "/other/" + i, Duration.ofSeconds(5)))
              .isEqualTo("hello from pod: GET /other/" + i + "\n");
        }
        Awaitility.await("the app saw the 5 matched copies").atMost(Duration.ofSeconds(10))
            .until(() -> requestsSeen(fay) == 5);
        assertThat(fay.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX)))
            .allMatch(l -> l.contains(" /fay/"));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- fay:\n" + fay.outputForHumans(), e);
      }
    }
  }

  @Test
  void nonHttpAndBadClientsPassThroughWithoutDisturbingOthers(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession alice = dev(in, "local", "alice", List.of("--http-header-filter", "^x-dev: alice$"))) {
      try {
        // A client that is not HTTP, one that stops in the middle of its head, and a head larger than any buffer.
        ExecResult echo = lab.run(Node.CLIENT, Duration.ofSeconds(15), "bash", "-c",
            "printf 'HELLO mirrord\\n' | socat -t 5 - TCP:" + in.podIp() + ":" + PORT);
        assertThat(echo.stdout()).isEqualTo("echo: HELLO mirrord\n");
        try (LabProcess stuck = lab.exec(Node.CLIENT, java.util.Map.of(), List.of("bash", "-c",
            "(printf 'GET /stuck HTTP/1.1\\r\\nHost: x\\r\\nX-Dev: al'; sleep 60) | socat -t 60 - TCP:" + in.podIp() + ":"
                + PORT))) {
          String bigHeader = "X-Big: " + "a".repeat(100_000);
          ExecResult big = lab.run(Node.CLIENT, Duration.ofSeconds(15), "curl", "-sS", "-o", "/dev/null", "-w",
              "%{http_code}", "-H", bigHeader, "-H", "X-Dev: alice", "http://" + in.podIp() + ":" + PORT + "/big");
          // Netty gives up on a 100 kB head: it goes to the pod's server as it is, which answers it.
          assertThat(big.stdout()).isEqualTo("200");
          ExecResult bad = lab.run(Node.CLIENT, Duration.ofSeconds(15), "bash", "-c",
              "printf 'GET /bad HTTP/1.1\\r\\nno colon here\\r\\n\\r\\n' | socat -t 5 - TCP:" + in.podIp() + ":" + PORT);
          assertThat(bad.stdout()).startsWith("HTTP/1.1 400");
          String summary = mix(in, "connections=4", "requests=200", "seed=11", "devs=alice");
          assertThat(summary).startsWith("summary requests=200 ok=200 bad=0 failed=0");
          assertThat(stuck.isAlive()).isTrue();
        }
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n--- alice:\n" + alice.outputForHumans(), e);
      }
    }
    Awaitility.await("no MIRRORD rule left").atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(in.mirrordRules()).isEmpty());
  }

  @Test
  void killingTheAgentOrTheCliMidTrafficGivesThePodBackWithinTwoSeconds(NetnsLab lab) {
    IncomingLab in = incoming(lab);
    for (String kill : List.of("agent", "cli")) {
      try (MirrordSession alice = dev(in, "local", "alice", List.of("--http-header-filter", "^x-dev: alice$"))) {
        try (LabProcess load = in.client(IncomingLab.javaForLoad(FilterMixClient.class, "host=" + in.podIp(),
            "port=" + PORT, "connections=2", "requests=100000", "maxBody=512", "deadline=20", "devs=alice",
            "route=alice=pod"))) {
          Thread.sleep(1500);
          long killedAt = System.currentTimeMillis();
          if (kill.equals("agent")) {
            alice.killAgent();
          } else {
            alice.signalCli("KILL");
          }
          // The pod answers alice's requests again (the curl carries her header).
          Awaitility.await("the pod answers alice's requests after kill -9 of the " + kill).atMost(Duration.ofSeconds(2))
              .pollInterval(Duration.ofMillis(50)).until(() -> in.curlPodWith(PORT, "/after", "X-Dev: alice",
                  Duration.ofMillis(500)).equals("hello from pod: GET /after\n"));
          System.out.printf(Locale.ROOT, "[http-filter] pod serves alice's requests %d ms after kill -9 of the %s%n",
              System.currentTimeMillis() - killedAt, kill);
          Awaitility.await("no MIRRORD rule left").atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
              .untilAsserted(() -> assertThat(in.mirrordRules()).isEmpty());
          load.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\n--- alice:\n" + alice.outputForHumans(), e);
        }
        Awaitility.await("agent gone").atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(in.mirrordProcessesInPod()).isEmpty());
      }
    }
  }
}
