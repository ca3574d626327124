package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.DnsProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.protocol.Dns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Remote DNS in a child JVM, on JDK 17 (hooks {@code PlatformNameService}) and the build's JDK
 * (hooks {@code PlatformResolver}), against FakeAgent's DNS table. No lookup here leaves the
 * machine: the names that resolve locally are in /etc/hosts (localhost, the host name) or, for
 * {@code dns.remote=false}, in a hosts file bind-mounted over /etc/hosts in a private mount
 * namespace of the child (root only).
 */
class DnsIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  @TempDir Path dir;
  private FakeAgent agent;

  @BeforeEach
  void startAgent() {
    agent = FakeAgent.start();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  private ChildJvm.Result run(Path jdk, List<String> jvmArgs, Map<String, String> session, String... names)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    return ChildJvm.run(
        jdk,
        jvmArgs,
        SessionFile.write(dir, agent.port(), session).toString(),
        List.of(ChildJvm.testClasses()),
        DnsProbeApp.class,
        List.of(names),
        dir);
  }


  private List<String> asked() {
    return agent.received(Dns.LookupRequest.class).stream().map(Dns.LookupRequest::host).toList();
  }

  static String ownHostname() throws Exception {
    return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void namesResolveInTheTargetAndNamesOfThisMachineLocally(String name, Path jdk) throws Exception {
    String host = ownHostname();

    // Per-lookup lines are DEBUG (nothing to act on at INFO).
    ChildJvm.Result r =
        run(jdk, List.of(), Map.of("log.level", "debug"),
            "svc", "postgres.default.svc.cluster.local", "nope", "localhost", host);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).as(r.toString()).isEmpty();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(r.value("svc")).isEqualTo("198.18.0.20");
    assertThat(r.value("postgres.default.svc.cluster.local")).isEqualTo("198.18.0.20");
    assertThat(r.value("nope")).isEqualTo("UnknownHostException");
    assertThat(r.value("nope.message")).startsWith("nope: Name or service not known");
    assertThat(r.value("localhost")).contains("127.0.0.1");
    assertThat(r.value(host)).doesNotContain("Exception");
    assertThat(r.value("getLocalHost")).startsWith(host + "/").doesNotContain("Exception");
    assertThat(asked())
        .as("localhost and the host name never reach the target")
        .containsExactlyInAnyOrder("svc", "postgres.default.svc.cluster.local", "nope");
    assertThat(Files.readString(dir.resolve("layer.log")))
        .contains("dns host=svc family=0 decision=HANDLED answer=[198.18.0.20]")
        .doesNotContain("ERROR");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theJvmsAddressPreferencesChooseFamilyAndOrder(String name, Path jdk) throws Exception {
    ChildJvm.Result v6first =
        run(jdk, List.of("-Djava.net.preferIPv6Addresses=true"), Map.of(), "dual");
    assertThat(v6first.value("dual")).as(v6first.toString()).isEqualTo("fd00:0:0:0:0:0:0:30,198.18.0.30");

    ChildJvm.Result v4only = run(jdk, List.of("-Djava.net.preferIPv4Stack=true"), Map.of(), "dual");
    assertThat(v4only.value("dual")).as(v4only.toString()).isEqualTo("198.18.0.30");
    assertThat(agent.received(Dns.LookupRequest.class))
        .extracting(Dns.LookupRequest::family)
        .containsExactly(Dns.ANY, Dns.IPV4);
    assertThat(Files.readString(dir.resolve("layer.log")))
        .as("at the default level (info) an answered lookup writes no line")
        .doesNotContain("decision=HANDLED");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void withDnsRemoteFalseEveryNameResolvesLocally(String name, Path jdk) throws Exception {
    Path java = javaWithOwnHostsFile(jdk, "10.9.9.9 svc\n");

    ChildJvm.Result remote = run(java, List.of(), Map.of(), "svc");
    ChildJvm.Result local = run(java, List.of(), Map.of("dns.remote", "false"), "svc", "localhost");

    assertThat(remote.value("svc")).as(remote.toString()).isEqualTo("198.18.0.20");
    assertThat(local.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(local.value("svc")).as(local.toString()).isEqualTo("10.9.9.9");
    assertThat(local.value("localhost")).contains("127.0.0.1");
    assertThat(local.value("getLocalHost")).doesNotContain("Exception");
    assertThat(asked()).as("only the dns.remote=true run asked").containsExactly("svc");
  }

  /**
   * A "JDK" whose bin/java runs the real one in a private mount namespace with /etc/hosts = this
   * machine's plus {@code extra}: local resolution of those names needs no DNS server.
   */
  private Path javaWithOwnHostsFile(Path jdk, String extra) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    assumeTrue(
        "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim()),
        "needs root (a private mount namespace for the child's /etc/hosts)");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare (util-linux)");
    Path hosts = dir.resolve("hosts");
    Files.writeString(hosts, Files.readString(Path.of("/etc/hosts")) + "\n" + extra);
    Path bin = Files.createDirectories(dir.resolve("jdk-" + jdk.getFileName() + "/bin"));
    Path script = bin.resolve("java");
    List<String> lines = new ArrayList<>();
    lines.add("#!/bin/sh");
    lines.add("exec /usr/bin/unshare --mount --propagation private /bin/sh -c "
        + "'mount --bind \"$0\" /etc/hosts && exec \"$@\"' '" + hosts + "' '" + jdk.resolve("bin/java") + "' \"$@\"");
    Files.write(script, lines);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return script.getParent().getParent();
  }
}
