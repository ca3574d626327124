package dev.mirrord.jvm.e2e.outgoing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.ResolverClientsApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import dev.mirrord.jvm.e2e.lab.WithDatabases;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The target's resolver files in the app's JVM (issue 13, part 2), end to end: {@link ResolverClientsApp} runs clients
 * whose resolvers read {@code /etc/resolv.conf} and {@code /etc/hosts} themselves — Lettuce ({@code
 * redis://redis:6379}) and Reactor Netty's {@code HttpClient} ({@code http://svc:8080/}) through Netty's {@code
 * DnsNameResolver} on native epoll, by short names; Lettuce's resolver for a name whose UDP answer is truncated (300 A
 * records: TCP fallback); JNDI's {@code dns:} provider (an A and an SRV lookup, and the truncated name) with no provider
 * URL. The lab's dnsmasq serves the names (scripts/lab.sh: the SRV record and {@code many}).
 *
 * <p>As in {@link OutgoingE2EIT}, "outside the lab" is the loopback-only dev namespace, whose resolv.conf names
 * 127.0.0.1 (nothing listens there): without mirrord, and with {@code --no-remote-dns}, every check fails there; under
 * mirrord the app's reads of the two files see the pod's, its queries to the pod's name server 198.18.0.53 go through
 * the pod (UDP, and TCP after a truncated answer), and every check prints what it prints inside the pod.
 */
@ExtendWith(NetnsLabExtension.class)
@WithDatabases
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ResolverFilesE2EIT {
  private static final Duration RUN = Duration.ofSeconds(90);

  /** What the app prints inside the pod: the contract for mirrord. */
  private static final Map<String, String> IN_THE_POD = OutgoingE2EIT.orderedMap(
      "lettuce", "ok hello from lettuce via DnsAddressResolverGroup",
      "reactor", "ok hello from svc: GET /resolver via DnsAddressResolverGroup",
      "vertx", "ok hello from svc: GET /resolver via DnsAddressResolverProvider$1",
      "truncated", "ok 300 addresses",
      "jndi", "ok 198.18.0.20 from dns://198.18.0.53",
      "jndisrv", "ok 0 0 6379 redis.default.svc.cluster.local.",
      "jnditcp", "ok 300 addresses");

  /**
   * The root causes a check may fail with when it reads this machine's files (measured in the dev namespace, whose
   * resolv.conf names 127.0.0.1 where nothing listens): Netty's queries time out (the HTTP request's 5 s bound may come
   * first), JNDI's get ICMP port unreachable.
   */
  private static final Map<String, List<String>> WITH_LOCAL_FILES = Map.of(
      "lettuce", List.of("DnsNameResolverTimeoutException", "UnknownHostException"),
      "reactor", List.of("TimeoutException", "DnsNameResolverTimeoutException", "UnknownHostException"),
      "vertx", List.of("TimeoutException", "DnsNameResolverTimeoutException", "UnknownHostException"),
      "truncated", List.of("DnsNameResolverTimeoutException", "UnknownHostException"),
      "jndi", List.of("PortUnreachableException"),
      "jndisrv", List.of("PortUnreachableException"),
      "jnditcp", List.of("PortUnreachableException"));

  private static void assertFailedAsWithTheLocalFiles(String stdout, Object context) {
    Map<String, String> roots = OutgoingE2EIT.failureRoots(stdout);
    assertThat(roots.keySet()).as("%s", context).containsExactlyElementsOf(IN_THE_POD.keySet());
    roots.forEach((check, root) -> assertThat(root).as("%s\n%s", check, context).isIn(WITH_LOCAL_FILES.get(check)));
  }

  @BeforeAll
  static void jarsAreBuilt() throws IOException, InterruptedException {
    OutgoingE2EIT.jarsAreBuilt();
  }

  private static List<String> app() {
    return JavaApps.libraryCommand17(ResolverClientsApp.class);
  }

  /** (i) Proves the lab and the app: inside the pod's namespace, with the pod's files, every check passes. */
  @Test
  void insideThePodsNamespaceEveryClientResolvesByTheClustersNames(NetnsLab lab) {
    ExecResult r = lab.run(Node.POD, RUN, app().toArray(String[]::new));

    assertThat(OutgoingE2EIT.results(r.stdout())).as("%s", r).containsExactlyEntriesOf(IN_THE_POD);
    assertThat(r.exitCode()).as("%s", r).isZero();
  }

  /** (ii) Proves the tests can fail: outside the lab, with this machine's files, every check fails. */
  @Test
  void withoutMirrordEveryCheckFailsWithTheLocalFiles(NetnsLab lab) {
    ExecResult r = OutgoingE2EIT.runIn(lab, OutgoingE2EIT.devNamespace(lab), app());

    assertFailedAsWithTheLocalFiles(r.stdout(), r);
    assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
  }

  /**
   * (iii) Under mirrord, outside the lab, on JDK 17 and on the build's JDK 25: every check prints exactly what it prints
   * inside the pod — short names through the pod's search list, answers from the pod's name server, truncated answers
   * asked again over TCP through the pod.
   */
  @ParameterizedTest(name = "on JDK {0}")
  @ValueSource(ints = {17, 25})
  void underMirrordTheClientsOwnResolversUseThePodsFiles(int jdk, NetnsLab lab) {
    Path java = jdk == 17 ? JavaApps.java17() : JavaApps.javaExecutable();
    OutgoingE2EIT.MirrordResult r =
        OutgoingE2EIT.mirrord(lab, "resolver-files-jdk" + jdk, List.of(), JavaApps.libraryCommand(java, ResolverClientsApp.class));

    assertThat(OutgoingE2EIT.results(r.stdout())).as("%s", r).containsExactlyEntriesOf(IN_THE_POD);
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(r.mirrordLog()).contains("the app's own resolvers read the target's /etc/resolv.conf and /etc/hosts");
    OutgoingE2EIT.assertNothingLeft(lab, r);
  }

  /** (iv) {@code --no-remote-dns}: the app reads this machine's files, and every check fails as without mirrord. */
  @Test
  void withNoRemoteDnsTheLocalFilesStayAndEveryCheckFails(NetnsLab lab) {
    OutgoingE2EIT.MirrordResult r = OutgoingE2EIT.mirrord(lab, "resolver-files-no-remote-dns", List.of("--no-remote-dns"), app());

    assertFailedAsWithTheLocalFiles(r.stdout(), r);
    assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
    OutgoingE2EIT.assertNothingLeft(lab, r);
  }

}
