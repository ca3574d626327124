package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.ResolverFilesProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.layer.testing.TruncatingDnsServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The target's resolver files in the app's JVM (issue 13, part 2), on JDK 17 and the build's JDK:
 * with the session file naming copies of the target's {@code /etc/resolv.conf} and {@code
 * /etc/hosts} (as the CLI writes them), every read API and every resolver that parses those files
 * itself (JNDI's {@code dns:} provider and the JDK's {@code ResolverConfiguration} behind it,
 * Netty's {@code DnsNameResolver} defaults and {@code HostsFileParser}, dnsjava's {@code
 * ResolverConfig} and {@code HostsFileParser}) sees the copies; other files, including files named
 * {@code hosts} or {@code resolv.conf} elsewhere, stay local. Nothing here sends a packet: these
 * resolvers read their configuration at construction.
 */
class ResolverFilesIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  /** What the fake target's files say (a Kubernetes pod's, in the lab's addresses). */
  static final String TARGET_RESOLV_CONF =
      "nameserver 198.18.0.53\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";

  static final String TARGET_HOSTS = "127.0.0.1\tlocalhost\n198.18.0.10\tpod.default.svc.cluster.local pod\n";

  /** Every plain read API of the probe app. */
  private static final List<String> READ_APIS =
      List.of("fis", "reader", "raf", "newInputStream", "newBufferedReader", "readAllLines", "lines",
          "readString", "readAllBytes", "channel", "fisChannel");

  @TempDir Path dir;
  private FakeAgent agent;
  private Path resolvCopy;
  private Path hostsCopy;

  @BeforeEach
  void setUp() throws Exception {
    agent = FakeAgent.start();
    resolvCopy = Files.writeString(dir.resolve("target-resolv.conf"), TARGET_RESOLV_CONF);
    hostsCopy = Files.writeString(dir.resolve("target-hosts"), TARGET_HOSTS);
    assumeTrue(!Files.readString(Path.of("/etc/resolv.conf")).equals(TARGET_RESOLV_CONF), "local file differs");
  }

  @AfterEach
  void tearDown() {
    agent.close();
  }

  private Map<String, String> copies() {
    return Map.of("dns.resolv_conf", resolvCopy.toString(), "dns.hosts", hostsCopy.toString());
  }

  private ChildJvm.Result run(Path jdk, Map<String, String> session, List<String> probes) throws Exception {
    return runApp(jdk, session, ResolverFilesProbeApp.class, probes);
  }

  private ChildJvm.Result runApp(Path jdk, Map<String, String> session, Class<?> app, List<String> args)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    List<Path> cp = new ArrayList<>();
    cp.add(ChildJvm.testClasses());
    Path libs = Path.of(System.getProperty("mirrord.it.resolverLibs", "target/it-resolver-libs"));
    try (Stream<Path> jars = Files.list(libs)) {
      jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(cp::add);
    }
    Path work = Files.createDirectories(dir.resolve("work"));
    return ChildJvm.run(
        jdk,
        List.of("--add-exports", "java.base/sun.net.dns=ALL-UNNAMED"),
        SessionFile.write(dir, agent.port(), session).toString(),
        cp,
        app,
        args,
        work);
  }

  private static List<String> probes(List<String> apis, String... paths) {
    List<String> out = new ArrayList<>();
    for (String path : paths) {
      for (String api : apis) {
        out.add(api + ":" + path);
      }
    }
    return out;
  }

  private static String escaped(String content) {
    return content.replace("\n", "\\n");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void everyReadApiSeesTheTargetsFilesAtTheirUsualPaths(String name, Path jdk) throws Exception {
    ChildJvm.Result r =
        run(jdk, copies(), probes(READ_APIS, "/etc/resolv.conf", "/etc/hosts", "/etc/../etc//hosts", "../../../etc/./resolv.conf"));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    for (String api : READ_APIS) {
      assertThat(r.value(api + ":/etc/resolv.conf")).as(api).isEqualTo(escaped(TARGET_RESOLV_CONF));
      assertThat(r.value(api + ":/etc/hosts")).as(api).isEqualTo(escaped(TARGET_HOSTS));
      assertThat(r.value(api + ":/etc/../etc//hosts")).as(api + ", an unnormalized path").isEqualTo(escaped(TARGET_HOSTS));
      assertThat(r.value(api + ":../../../etc/./resolv.conf")).as(api + ", a relative path").isEqualTo(escaped(TARGET_RESOLV_CONF));
    }
    assertThat(Files.readString(dir.resolve("layer.log")))
        .contains("the app's reads of [/etc/resolv.conf, /etc/hosts] open the target's copies")
        .doesNotContain("WARN")
        .doesNotContain("ERROR");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theResolversThatParseTheFilesThemselvesSeeTheTargets(String name, Path jdk) throws Exception {
    ChildJvm.Result r = run(jdk, copies(), List.of("jndi", "jdk", "netty", "dnsjava"));

    assertThat(r.value("jndi")).as(r.toString()).isEqualTo("dns://198.18.0.53");
    assertThat(r.value("jdk")).as(r.toString())
        .isEqualTo("nameservers=[198.18.0.53] search=[default.svc.cluster.local, svc.cluster.local, cluster.local]");
    assertThat(r.value("netty")).as(r.toString())
        .isEqualTo("servers=[/198.18.0.53:53] search=[default.svc.cluster.local, svc.cluster.local, cluster.local]"
            + " ndots=5 pod=pod/198.18.0.10");
    assertThat(r.value("dnsjava")).as(r.toString())
        .isEqualTo("servers=[/198.18.0.53:53] search=[default.svc.cluster.local., svc.cluster.local., cluster.local.]"
            + " ndots=5 pod=198.18.0.10");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void everyOtherFileStaysLocalEvenWithTheSameName(String name, Path jdk) throws Exception {
    Path elsewhere = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(elsewhere.resolve("hosts"), "local hosts\n");
    Files.writeString(elsewhere.resolve("resolv.conf"), "local resolv.conf\n");
    String hostname = Files.readString(Path.of("/etc/hostname"));

    ChildJvm.Result r =
        run(jdk, copies(), probes(READ_APIS, elsewhere.resolve("hosts").toString(),
            elsewhere.resolve("resolv.conf").toString(), "/etc/hostname", "etc/hosts"));

    for (String api : READ_APIS) {
      assertThat(r.value(api + ":" + elsewhere.resolve("hosts"))).as(r.toString()).isEqualTo("local hosts\\n");
      assertThat(r.value(api + ":" + elsewhere.resolve("resolv.conf"))).isEqualTo("local resolv.conf\\n");
      assertThat(r.value(api + ":/etc/hostname")).isEqualTo(escaped(hostname));
      assertThat(r.value(api + ":etc/hosts")).as("relative to the working dir, not /").startsWith("!");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void withoutRemoteDnsOrWithoutCopiesTheAppReadsTheLocalFilesAndNothingIsLogged(String name, Path jdk)
      throws Exception {
    String local = Files.readString(Path.of("/etc/resolv.conf"));
    Map<String, String> noRemote = new HashMap<>(copies());
    noRemote.put("dns.remote", "false");

    ChildJvm.Result off = run(jdk, noRemote, probes(List.of("fis", "readString"), "/etc/resolv.conf"));
    ChildJvm.Result none = run(jdk, Map.of(), probes(List.of("fis", "readString"), "/etc/resolv.conf"));

    for (ChildJvm.Result r : List.of(off, none)) {
      assertThat(r.value("fis:/etc/resolv.conf")).as(r.toString()).isEqualTo(escaped(local));
      assertThat(r.value("readString:/etc/resolv.conf")).isEqualTo(escaped(local));
    }
    assertThat(Files.readString(dir.resolve("layer.log"))).doesNotContain("WARN").doesNotContain("copies");
  }

  /** Bad input: the target's files could not be had (the CLI says why), or a copy is gone. */
  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void unreadableTargetFilesLeaveTheLocalOnesWithOneWarningAndNoFailure(String name, Path jdk) throws Exception {
    String localHosts = Files.readString(Path.of("/etc/hosts"));
    Map<String, String> session = new HashMap<>();
    session.put("dns.resolv_conf", resolvCopy.toString());
    session.put("dns.hosts", dir.resolve("no-such-copy").toString());
    session.put("dns.files.problem", "the target's /etc/resolv.conf cannot be read (forbidden in the target: x); the app reads this machine's");

    ChildJvm.Result r = run(jdk, session, List.of("fis:/etc/hosts", "readString:/etc/hosts", "fis:/etc/resolv.conf", "netty"));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("mirrord.layer.connected")).as(r.toString()).isEqualTo("true");
    assertThat(r.value("fis:/etc/hosts")).isEqualTo(escaped(localHosts));
    assertThat(r.value("readString:/etc/hosts")).isEqualTo(escaped(localHosts));
    assertThat(r.value("fis:/etc/resolv.conf")).as("a copy that is there is still served\n%s\n%s", r,
        Files.readString(dir.resolve("layer.log"))).isEqualTo(escaped(TARGET_RESOLV_CONF));
    assertThat(r.value("netty")).doesNotStartWith("!");
    List<String> warnings = Files.readAllLines(dir.resolve("layer.log")).stream().filter(l -> l.contains("WARN")).toList();
    assertThat(warnings).singleElement().asString()
        .contains("the target's /etc/resolv.conf cannot be read (forbidden in the target: x); the app reads this machine's")
        .contains("the copy of the target's /etc/hosts (" + dir.resolve("no-such-copy") + ") cannot be read; the app reads this machine's");
    assertThat(r.stderr()).noneMatch(l -> l.startsWith("mirrord:"));
  }

  /**
   * The app's own Netty {@code DnsNameResolver} (Netty 4.1, as Lettuce builds it), on native epoll
   * and on NIO: it reads the target's resolv.conf (a loopback name server, as a target running
   * systemd-resolved has; the search list, {@code ndots:5}) and hosts, its UDP queries go through
   * the target (here: FakeAgent's route to a local name server) and the answers are matched, and a
   * truncated answer is asked again over TCP, through the target too.
   */
  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("jdksAndTransports")
  void anAppsOwnNettyResolverAsksTheTargetsNameServerByShortNamesAndFallsBackToTcp(
      String name, Path jdk, String transport) throws Exception {
    List<String> many = new ArrayList<>();
    for (int i = 1; i <= 100; i++) {
      many.add("198.19.1." + i);
    }
    try (TruncatingDnsServer dns = new TruncatingDnsServer()
        .record("svc.default.svc.cluster.local.", List.of("198.18.0.20"))
        .record("many.default.svc.cluster.local.", many)) {
      agent.route("127.0.0.153:53", dns.address());
      // A loopback name server: if a query escaped the hooks it could not leave this machine.
      Files.writeString(resolvCopy, TARGET_RESOLV_CONF.replace("198.18.0.53", "127.0.0.153"));

      ChildJvm.Result r = runApp(jdk, copies(), dev.mirrord.jvm.layer.testapp.NettyResolveApp.class,
          List.of(transport, "svc", "many", "pod", "nope"));

      assertThat(r.value("transport")).as(r.toString()).isEqualTo(transport);
      assertThat(r.value("svc")).as(r.toString()).isEqualTo("198.18.0.20");
      assertThat(r.value("many").split(",")).as("every record, over TCP").hasSize(100).contains("198.19.1.100");
      assertThat(r.value("pod")).as("from the target's hosts file").isEqualTo("198.18.0.10");
      assertThat(r.value("nope")).as("NXDOMAIN from the target's server, for every search domain").contains("NXDOMAIN");
      assertThat(dns.questions)
          .contains("udp svc.default.svc.cluster.local./A", "udp many.default.svc.cluster.local./A",
              "tcp many.default.svc.cluster.local./A")
          .as("the target's search list (then the bare name), never a local domain")
          .allMatch(q -> q.matches("(udp|tcp) (svc|many|nope)\\.((default\\.svc\\.|svc\\.)?cluster\\.local\\.)?/A+"), "search list");
      assertThat(agent.received(dev.mirrord.jvm.protocol.Outgoing.ConnectRequest.class))
          .extracting(c -> c.protocol() + " " + c.address() + ":" + c.port())
          .contains("DNS_UDP 127.0.0.153:53", "TCP 127.0.0.153:53");
    }
  }

  static Stream<org.junit.jupiter.params.provider.Arguments> jdksAndTransports() {
    return ChildJvm.jdks().flatMap(a -> Stream.of("epoll", "nio")
        .map(t -> org.junit.jupiter.params.provider.Arguments.of(a.get()[0], a.get()[1], t)));
  }
}
