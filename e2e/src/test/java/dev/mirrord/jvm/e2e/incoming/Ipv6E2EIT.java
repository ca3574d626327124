package dev.mirrord.jvm.e2e.incoming;

import static dev.mirrord.jvm.e2e.incoming.IncomingLab.KEEPALIVE_PORT;
import static dev.mirrord.jvm.e2e.incoming.IncomingLab.POD_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.Ipv6App;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.KeepAliveClient;
import dev.mirrord.jvm.e2e.apps.ReactorNettyPeerApp;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.apps.StackApps;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.HostCommand;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * Every path over IPv6 (issue 13, part 4), in the lab's dual stack (fd00:198:18::/64, see scripts/lab.sh): mirror and
 * steal of clients that reach the pod at {@code [fd00:198:18::10]}, with the app seeing the client's IPv6 address as
 * the peer (JDK {@code HttpServer} and Netty); outgoing TCP ({@code Socket}, {@code SocketChannel}) and connected UDP
 * ({@code DatagramSocket}, {@code DatagramChannel}) to svc's IPv6 address and to names with an AAAA record; AAAA
 * lookups through the agent (the JDK's resolver, by default and with {@code -Djava.net.preferIPv6Addresses=true}) and
 * Netty's {@code DnsNameResolver} asking the cluster DNS at {@code [fd00:198:18::53]:53} for AAAA records itself.
 *
 * <p>It reuses the incoming tests' fixture ({@link IncomingLab}: dev namespaces with only a loopback, where mirrord
 * and the app run, and the jar snapshot), so a connection mirrord did not take over fails at once instead of leaving
 * the machine. Every session ends with {@link #assertNothingLeft}: no process of mirrord in the dev or pod namespace,
 * no MIRRORD rule in the pod's iptables nor ip6tables, the session directory gone.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class Ipv6E2EIT {
  private static final Duration RUN = Duration.ofSeconds(90);
  private static final String POD6 = "fd00:198:18::10";
  private static final String CLIENT6_PEER = "fd00:198:18:0:0:0:0:100";
  private static final Pattern RESULT = Pattern.compile("^(\\S+=\\S+) (ok|failed) (.*)$", Pattern.MULTILINE);
  private static final Pattern SESSION_LINE = Pattern.compile("session (\\S+) in (\\S+), log ");

  /** {@link Ipv6App}'s checks: addresses, names with only an AAAA record, a dual-stack name, Netty's own AAAA query. */
  private static final List<String> CHECKS = List.of(
      "dns=svc-v6",
      "dns=svc-dual",
      "tcp=[fd00:198:18::20]:9000",
      "tcpchannel=[fd00:198:18::20]:9000",
      "udp=[fd00:198:18::20]:9001",
      "udpchannel=[fd00:198:18::20]:9001",
      "tcp=svc-v6:9000",
      "udp=svc-dual:9001",
      "netty6=[fd00:198:18::53]:53/svc-v6.default.svc.cluster.local");

  /** What the checks print inside the pod, with the JVM's default preference (IPv4 first for a dual-stack name). */
  private static final Map<String, String> IN_THE_POD = orderedMap(
      "dns=svc-v6", "fd00:198:18:0:0:0:0:20",
      "dns=svc-dual", "198.18.0.20,fd00:198:18:0:0:0:0:20",
      "tcp=[fd00:198:18::20]:9000",
          "ping-tcp remote=/[fd00:198:18:0:0:0:0:20]:9000 inet=/fd00:198:18:0:0:0:0:20",
      "tcpchannel=[fd00:198:18::20]:9000", "ping-tcpchannel remote=/[fd00:198:18:0:0:0:0:20]:9000",
      "udp=[fd00:198:18::20]:9001", "ping-udp remote=/[fd00:198:18:0:0:0:0:20]:9001 inet=/fd00:198:18:0:0:0:0:20"
          + " from=/[fd00:198:18:0:0:0:0:20]:9001",
      "udpchannel=[fd00:198:18::20]:9001",
          "ping-udpchannel remote=/[fd00:198:18:0:0:0:0:20]:9001 from=/[fd00:198:18:0:0:0:0:20]:9001",
      "tcp=svc-v6:9000",
          "ping-tcp remote=svc-v6/[fd00:198:18:0:0:0:0:20]:9000 inet=svc-v6/fd00:198:18:0:0:0:0:20",
      "udp=svc-dual:9001",
          "ping-udp remote=svc-dual/198.18.0.20:9001 inet=svc-dual/198.18.0.20 from=/198.18.0.20:9001",
      "netty6=[fd00:198:18::53]:53/svc-v6.default.svc.cluster.local", "fd00:198:18:0:0:0:0:20");

  /** The same with {@code -Djava.net.preferIPv6Addresses=true}: the dual-stack name gives IPv6 first, and is used. */
  private static final Map<String, String> IN_THE_POD_PREFERRING_IPV6 = with(IN_THE_POD,
      "dns=svc-dual", "fd00:198:18:0:0:0:0:20,198.18.0.20",
      "udp=svc-dual:9001", "ping-udp remote=svc-dual/[fd00:198:18:0:0:0:0:20]:9001 inet=svc-dual/fd00:198:18:0:0:0:0:20"
          + " from=/[fd00:198:18:0:0:0:0:20]:9001");

  private static IncomingLab incoming;

  private static synchronized IncomingLab incoming(NetnsLab lab) {
    if (incoming == null || incoming.lab() != lab) {
      incoming = new IncomingLab(lab);
    }
    return incoming;
  }

  /** The JVMs the outgoing checks run on: the layer's oldest JDK as is, and the build's preferring IPv6. */
  enum Jvm {
    JDK17_DEFAULT,
    JDK25_PREFER_IPV6;

    List<String> command() {
      List<String> cmd = new ArrayList<>(this == JDK17_DEFAULT
          ? JavaApps.libraryCommand17(Ipv6App.class, CHECKS.toArray(String[]::new))
          : JavaApps.libraryCommand(JavaApps.javaExecutable(), Ipv6App.class, CHECKS.toArray(String[]::new)));
      if (this == JDK25_PREFER_IPV6) {
        cmd.add(1, "-Djava.net.preferIPv6Addresses=true");
      }
      return cmd;
    }

    Map<String, String> expected() {
      return this == JDK17_DEFAULT ? IN_THE_POD : IN_THE_POD_PREFERRING_IPV6;
    }
  }

  /** The lab is dual stack, and IPv6 cannot leave it any more than IPv4: no IPv6 route out, none in from the root. */
  @Test
  void theLabIsDualStackWithNoIpv6RouteOut(NetnsLab lab) {
    assertThat(lab.ip6(Node.POD)).isEqualTo(POD6);
    assertThat(lab.ip6(Node.CLIENT)).isEqualTo("fd00:198:18::100");
    ExecResult podRoutes = lab.run(Node.POD, Duration.ofSeconds(15), "ip", "-6", "route");
    assertThat(podRoutes.stdout().lines().map(l -> l.split(" ")[0]).toList()).as("%s", podRoutes)
        .containsExactlyInAnyOrder("fd00:198:18::/64", "fe80::/64");
    String root = HostCommand.run("ip", "-o", "-6", "route", "show", "table", "all")
        + HostCommand.run("ip", "-o", "-6", "addr");
    assertThat(root).doesNotContain("fd00:198:18:");
    // Both families answer the same server.
    ExecResult v6 = lab.run(Node.CLIENT, Duration.ofSeconds(15), "curl", "-sS", "-g", "--max-time", "5",
        "http://[" + POD6 + "]:" + POD_PORT + "/v6");
    assertThat(v6.stdout()).as("%s", v6).isEqualTo("hello from pod: GET /v6\n");
  }

  /**
   * Outgoing TCP, connected UDP and DNS over IPv6 from a dev namespace with only a loopback: under mirrord every check
   * prints exactly what it prints inside the pod (which the first half proves), so the sockets report the IPv6
   * addresses asked for, names with only an AAAA record resolve in the pod's context, the JVM's preference between A
   * and AAAA holds (on JDK 17 through the hooked name service, on 25 through the lookup policy), and Netty's own AAAA
   * query to an IPv6 name server is answered through the pod.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Jvm.class)
  void outgoingTcpUdpAndAaaaLookupsGoThroughThePodOverIpv6(Jvm jvm, NetnsLab lab) {
    ExecResult inPod = lab.run(Node.POD, RUN, jvm.command().toArray(String[]::new));
    assertThat(results(inPod.stdout())).as("inside the pod: %s", inPod).containsExactlyEntriesOf(jvm.expected());

    IncomingLab in = incoming(lab);
    try (MirrordSession s = in.mirrord(in.devNamespace("out6"), List.of(), jvm.command())) {
      try {
        int exit = s.process().waitFor(RUN);
        assertThat(results(s.stdout())).containsExactlyEntriesOf(jvm.expected());
        assertThat(s.stdout()).as("no socket reports a local relay")
            .doesNotContain("127.0.0.1").doesNotContain("0:0:0:0:0:0:0:1");
        assertThat(exit).isZero();
        assertNothingLeft(in, s);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  /** Mirror: requests of a client that reaches the pod over IPv6 arrive byte for byte, from its IPv6 address. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(MirrorE2EIT.App.class)
  void mirroredIpv6ClientsArriveWithTheirIpv6Address(MirrorE2EIT.App app, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of(),
        IncomingLab.java(app.main, Integer.toString(POD_PORT), "local", "120"))) {
      try {
        s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
        MirrorE2EIT.LoadResult load = MirrorE2EIT.runLoad(in, "host=" + POD6, "port=" + POD_PORT, "connections=2",
            "requests=20", "maxBody=8192", "verifySha=false", "seed=" + (60 + app.ordinal()));
        assertThat(load.summary()).contains("requests=20 ok=20 bad=0 failed=0 retries=0");
        Map<String, Integer> received = MirrorE2EIT.awaitArrived(s, load.sent(), Duration.ofSeconds(20));
        assertThat(received).as("requests the app got (path, length, sha256)").isEqualTo(load.sent());
        assertThat(MirrorE2EIT.peers(s)).as("the app sees the real client's IPv6 address").containsOnly(CLIENT6_PEER);
        s.signalCli("INT");
        assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code after SIGINT").isEqualTo(130);
        assertNothingLeft(in, s);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  /**
   * Steal over IPv6: ip6tables redirects the pod's port; a keep-alive client connected over IPv6 before the steal is
   * moved into it (its conntrack entry is flushed) and a new IPv6 client is answered by the local app, which sees its
   * IPv6 address; an IPv4 client is stolen alike. After Ctrl-C the pod answers again and neither iptables nor ip6tables
   * keeps a rule.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(MirrorE2EIT.App.class)
  void stolenIpv6ClientsReachTheLocalAppAndTheRulesGoInBothFamilies(MirrorE2EIT.App app, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    in.startPodKeepAliveServer();
    try (LabProcess ka = in.client(IncomingLab.java(KeepAliveClient.class, POD6, Integer.toString(KEEPALIVE_PORT),
        "50", "90"))) {
      KeepAliveLog log = new KeepAliveLog(ka);
      KeepAliveLog.Line before = log.await(0, l -> l.answeredBy("pod"), Duration.ofSeconds(30), "answer from the pod");
      long stealStart = System.currentTimeMillis();
      try (MirrordSession s = in.mirrord(in.devNamespace("local"), List.of("--steal"),
          IncomingLab.java(app.main, Integer.toString(KEEPALIVE_PORT), "local", "120"))) {
        try {
          s.awaitApp("^" + ShaHttpServerApp.READY_PREFIX, IncomingLab.START);
          KeepAliveLog.Line stolen =
              log.await(stealStart, l -> l.answeredBy("local"), Duration.ofSeconds(10), "answer from the local app");
          assertThat(stolen.conn()).as("answered locally on a new connection").isGreaterThan(before.conn());
          assertThat(in.mirrordRules()).as("our rules while stealing")
              .anyMatch(r -> r.startsWith("ip6tables-save: ") && r.contains("--dport " + KEEPALIVE_PORT))
              .anyMatch(r -> r.startsWith("iptables-save: ") && r.contains("--dport " + KEEPALIVE_PORT));

          assertThat(curl(lab, "http://[" + POD6 + "]:" + KEEPALIVE_PORT + "/new6"))
              .isEqualTo("hello from local: GET /new6\n");
          assertThat(curl(lab, "http://" + in.podIp() + ":" + KEEPALIVE_PORT + "/new4"))
              .isEqualTo("hello from local: GET /new4\n");
          Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(s.stdout())
              .contains(ShaHttpServerApp.REQUEST_PREFIX + "GET /new6 0 ")
              .contains(ShaHttpServerApp.REQUEST_PREFIX + "GET /new4 0 "));
          assertThat(requestLine(s, "GET /new6")).as("the peer of the IPv6 client").endsWith(" " + CLIENT6_PEER);
          assertThat(requestLine(s, "GET /new4")).as("the peer of the IPv4 client").endsWith(" " + lab.ip(Node.CLIENT));

          long stoppedAt = System.currentTimeMillis();
          s.signalCli("INT");
          assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code after SIGINT").isEqualTo(130);
          log.await(stoppedAt, l -> l.answeredBy("pod"), Duration.ofSeconds(10), "answer from the pod after Ctrl-C");
          assertThat(curl(lab, "http://[" + POD6 + "]:" + KEEPALIVE_PORT + "/after")).isEqualTo("hello from pod: GET /after\n");
          assertNothingLeft(in, s);
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
        }
      }
    }
  }

  /** How {@link #anAppOnIpv6LoopbackOnlyIsReachedWithTheRealClientAsItsPeer} takes the pod's port. */
  enum TakeOver {
    STEAL(List.of("--steal"), null),
    /** Matched requests reach the app through the CLI's HTTP gateway. */
    FILTER(List.of("--http-header-filter", "^x-dev: me$"), "X-Dev: me");

    final List<String> flags;
    final String header;

    TakeOver(List<String> flags, String header) {
      this.flags = flags;
      this.header = header;
    }
  }

  /**
   * An app that listens on {@code [::1]} only (IPv4 cannot reach it): the CLI's 127.0.0.1 connect is refused, the next
   * one comes from {@code [::1]} and a port of the session's IPv6 range, which the layer maps to the real client. Every
   * session had no such range until the CLI read {@code ip_local_port_range} whole: this failed, stolen or matched.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(TakeOver.class)
  void anAppOnIpv6LoopbackOnlyIsReachedWithTheRealClientAsItsPeer(TakeOver how, NetnsLab lab) {
    IncomingLab in = incoming(lab);
    try (MirrordSession s = in.mirrord(in.devNamespace("local"), how.flags, JavaApps.libraryCommand17(
        ReactorNettyPeerApp.class, Integer.toString(POD_PORT), "::1", "local"))) {
      try {
        s.awaitApp("^" + StackApps.READY_PREFIX, IncomingLab.START);
        for (int i = 0; i < 3; i++) {
          String path = "/v6only" + i;
          String answer = how.header == null ? in.curlPod(POD_PORT, path, Duration.ofSeconds(5))
              : in.curlPodWith(POD_PORT, path, how.header, Duration.ofSeconds(5));
          assertThat(answer).startsWith("hello from local: peer=" + lab.ip(Node.CLIENT) + ":")
              .endsWith(" path=" + path + "\n");
        }
        assertThat(s.cliLog()).contains("answers on 0:0:0:0:0:0:0:1");
        s.signalCli("INT");
        assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code after SIGINT").isEqualTo(130);
        assertNothingLeft(in, s);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\n" + s.outputForHumans(), e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * What an ended session may not leave: a process in its dev namespace, an agent or watchdog in the pod's, a MIRRORD
   * rule in the pod's iptables or ip6tables, its session directory.
   */
  private static void assertNothingLeft(IncomingLab in, MirrordSession s) {
    Awaitility.await("nothing of the session left").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> {
          assertThat(IncomingLab.processesIn(s.ns())).as("processes in the dev namespace").isEmpty();
          assertThat(in.mirrordProcessesInPod()).as("mirrord's processes in the pod").isEmpty();
          assertThat(in.mirrordRules()).as("MIRRORD rules in iptables and ip6tables").isEmpty();
        });
    Matcher m = SESSION_LINE.matcher(MirrordSession.read(s.dir().resolve("mirrord.log")));
    assertThat(m.find()).as("the session line in mirrord.log").isTrue();
    assertThat(Path.of(m.group(2))).as("session directory").doesNotExist();
  }

  private static String curl(NetnsLab lab, String url) {
    ExecResult r = lab.run(Node.CLIENT, Duration.ofSeconds(15), "curl", "-sS", "-g", "--max-time", "5", url);
    return r.ok() ? r.stdout() : "curl failed: " + r;
  }

  /** The app's line for one request ({@code sha-http.req GET /x 0 <sha> <peer>}). */
  private static String requestLine(MirrordSession s, String methodAndPath) {
    return s.stdout().lines().filter(l -> l.startsWith(ShaHttpServerApp.REQUEST_PREFIX + methodAndPath + " "))
        .findFirst().orElseThrow();
  }

  /** {@code check=target -> result} of the lines that end with ok (the result) or failed (the line, to show why). */
  private static Map<String, String> results(String stdout) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = RESULT.matcher(stdout);
    while (m.find()) {
      out.put(m.group(1), m.group(2).equals("ok") ? m.group(3) : "failed " + m.group(3));
    }
    return out;
  }

  private static Map<String, String> orderedMap(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Map<String, String> with(Map<String, String> base, String... kv) {
    Map<String, String> m = new LinkedHashMap<>(base);
    m.putAll(orderedMap(kv));
    return m;
  }
}
