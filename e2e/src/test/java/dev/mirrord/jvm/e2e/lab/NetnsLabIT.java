package dev.mirrord.jvm.e2e.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.e2e.apps.HttpGetApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Proves the lab: reachability, cluster DNS, isolation from the root namespace, and that nothing is ever left. */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NetnsLabIT {
  private static final Duration SHORT = Duration.ofSeconds(15);

  @Test
  void clientNamespaceReachesThePodServerOverTheBridge(NetnsLab lab) {
    String url = "http://" + lab.ip(Node.POD) + ":" + lab.podHttpPort() + "/hello";

    ExecResult curl = lab.run(Node.CLIENT, SHORT, "curl", "-sS", "--max-time", "5", url);
    assertThat(curl.exitCode()).as("%s", curl).isZero();
    assertThat(curl.stdout()).isEqualTo("hello from pod: GET /hello\n");

    List<String> javaGet = new ArrayList<>(JavaApps.command(HttpGetApp.class, "http://pod:8080/from-java"));
    ExecResult java = lab.run(Node.CLIENT, Duration.ofSeconds(30), javaGet.toArray(String[]::new));
    assertThat(java.exitCode()).as("%s", java).isZero();
    assertThat(java.stdout()).isEqualTo("status=200\nhello from pod: GET /from-java\n");
  }

  @Test
  void podReachesTheSecondPodsServices(NetnsLab lab) {
    ExecResult http = lab.run(Node.POD, SHORT, "curl", "-sS", "--max-time", "5", "http://svc:8080/x");
    assertThat(http.stdout()).as("%s", http).isEqualTo("hello from svc: GET /x\n");

    ExecResult tcp = lab.run(Node.POD, SHORT, "sh", "-c", "echo ping | nc -q1 -w3 svc " + lab.svcTcpEchoPort());
    assertThat(tcp.stdout()).as("%s", tcp).isEqualTo("ping\n");

    ExecResult udp = lab.run(Node.POD, SHORT, "sh", "-c", "echo dgram | nc -u -w1 " + lab.ip(Node.SVC) + " " + lab.svcUdpEchoPort());
    assertThat(udp.stdout()).as("%s", udp).isEqualTo("dgram\n");
  }

  @Test
  void svcSinkCountsWhatItReadsUntilTheClientsHalfClose(NetnsLab lab) {
    ExecResult sink = lab.run(Node.POD, SHORT, "sh", "-c",
        "head -c 1048576 /dev/zero | nc -N -w5 svc " + lab.svcSinkPort());
    assertThat(sink.stdout()).as("%s", sink).isEqualTo("1048576\n");
  }

  /** A lab of its own (the class's lab has no databases): PostgreSQL and Redis answer, by cluster name, and go. */
  @Test
  void withDatabasesPostgresAndRedisAnswerInsideTheSvcNamespaceAndLeaveNothing() {
    NetnsLab lab = NetnsLab.create(NetnsLab.Option.DATABASES);
    Path stateDir = lab.stateDir();
    try (lab) {
      assertThat(lab.hasDatabases()).isTrue();
      String svcIp = lab.ip(Node.SVC);
      ExecResult sql = lab.run(Node.SVC, SHORT, "psql", "-h", svcIp, "-p", Integer.toString(lab.svcPostgresPort()),
          "-U", "postgres", "-d", lab.svcPostgresDb(), "-qAtc", "select 40 + 2");
      assertThat(sql.stdout()).as("%s", sql).isEqualTo("42\n");
      ExecResult redis = lab.run(Node.SVC, SHORT, "redis-cli", "-h", svcIp, "-p", Integer.toString(lab.svcRedisPort()),
          "ping");
      assertThat(redis.stdout()).as("%s", redis).isEqualTo("PONG\n");

      // From the pod, by the names the pod uses (search domains): what the outgoing tests rely on.
      ExecResult podSql = lab.run(Node.POD, SHORT, "psql", "-h", "postgres", "-U", "postgres", "-d", "app", "-qAtc",
          "select current_database()");
      assertThat(podSql.stdout()).as("%s", podSql).isEqualTo("app\n");
      ExecResult podRedis = lab.run(Node.POD, SHORT, "redis-cli", "-h", "redis", "ping");
      assertThat(podRedis.stdout()).as("%s", podRedis).isEqualTo("PONG\n");

      // Only on the svc address: nothing listens on the node's loopback.
      ExecResult listeners = lab.run(Node.SVC, SHORT, "ss", "-Hltn");
      assertThat(listeners.stdout()).contains(svcIp + ":5432").contains(svcIp + ":6379")
          .doesNotContain("127.0.0.1:5432").doesNotContain("0.0.0.0:5432").doesNotContain("0.0.0.0:6379");
      assertThat(stateDir.resolve("pg/data/PG_VERSION")).exists();
    }
    assertThat(lab.leftovers()).isEmpty();
    assertThat(stateDir).as("data dir deleted").doesNotExist();
  }

  @Test
  void podResolvesClusterNamesThroughItsOwnResolvConf(NetnsLab lab) {
    ExecResult svc = lab.run(Node.POD, SHORT, "getent", "hosts", "svc");
    assertThat(svc.exitCode()).as("%s", svc).isZero();
    assertThat(svc.stdout()).startsWith("198.18.0.20").contains("svc.default.svc.cluster.local");

    assertThat(lab.run(Node.POD, SHORT, "getent", "hosts", "postgres").stdout()).startsWith("198.18.0.20");
    assertThat(lab.run(Node.POD, SHORT, "getent", "hosts", "pod.default.svc.cluster.local").stdout())
        .startsWith("198.18.0.10");
    assertThat(lab.run(Node.POD, SHORT, "getent", "hosts", "kube-dns.kube-system").stdout()).startsWith("198.18.0.53");

    ExecResult unknown = lab.run(Node.POD, SHORT, "getent", "hosts", "no-such-service");
    assertThat(unknown.exitCode()).as("%s", unknown).isEqualTo(2);
    assertThat(unknown.stdout()).isEmpty();
    ExecResult outside = lab.run(Node.POD, SHORT, "getent", "hosts", "example.com");
    assertThat(outside.exitCode()).as("never forwarded: %s", outside).isEqualTo(2);
  }

  @Test
  void podProcessSeesThePodsEtcEnvironmentHostnameAndNetns(NetnsLab lab) throws IOException {
    Path root = Path.of("/proc", Long.toString(lab.podPid()), "root");
    assertThat(Files.readString(root.resolve("etc/resolv.conf")))
        .isEqualTo("nameserver 198.18.0.53\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n");
    assertThat(Files.readString(root.resolve("etc/hosts"))).contains("127.0.0.1\tlocalhost").contains("198.18.0.10\tpod");
    assertThat(Files.readString(root.resolve("etc/hostname"))).isEqualTo("pod\n");

    ExecResult uname = lab.run(Node.CLIENT, SHORT, "nsenter", "--uts=/proc/" + lab.podPid() + "/ns/uts", "cat",
        "/proc/sys/kernel/hostname");
    assertThat(uname.stdout()).isEqualTo("pod\n");

    String environ = new String(Files.readAllBytes(Path.of("/proc", Long.toString(lab.podPid()), "environ")),
        StandardCharsets.UTF_8);
    assertThat(Arrays.asList(environ.split("\0"))).contains("POD_NAME=pod", "POD_NAMESPACE=default",
        "DATABASE_URL=postgres://postgres.default.svc.cluster.local:5432/app");

    String netns = Files.readSymbolicLink(Path.of("/proc", Long.toString(lab.podPid()), "ns/net")).toString();
    assertThat(netns).isEqualTo("net:[" + lab.netnsInode(Node.POD) + "]");
  }

  /**
   * The root namespace has no route into the lab. We check the routing table rather than attempt a connection: on a
   * host with a default route, a SYN to 198.18.0.10 would leave the machine, which the traffic rule forbids.
   */
  @Test
  void rootNamespaceHasNoRouteIntoTheLab(NetnsLab lab) {
    String routes = host("ip", "-o", "-4", "route", "show", "table", "all");
    assertThat(routes).doesNotContain("198.18.0.").doesNotContain(lab.prefix());
    assertThat(host("ip", "-o", "addr")).doesNotContain("198.18.0.");
    String via = host("ip", "-o", "-4", "route", "get", lab.ip(Node.POD));
    assertThat(via).as("not via a lab interface").doesNotContain("v-pod").doesNotContain("br0").doesNotContain(lab.prefix());
    if (!routes.contains("default")) {
      assertThat(via).as("no default route: unreachable").isEmpty();
    }

    // Inside the lab: the pod has only its /24 (no default route), so it cannot leak traffic out either.
    ExecResult podRoutes = lab.run(Node.POD, SHORT, "ip", "-4", "route");
    assertThat(podRoutes.stdout().strip()).isEqualTo("198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.10");
  }

  @Test
  void closeKillsEverythingAndLeavesNothing() {
    NetnsLab lab = NetnsLab.create();
    LabProcess sleeper = lab.startInPod("sleep", "300");
    assertThat(lab.leftovers()).isNotEmpty();
    long t0 = System.nanoTime();
    lab.close();
    System.out.printf("[lab-it] close took %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));

    assertThat(sleeper.isAlive()).isFalse();
    assertThat(lab.leftovers()).isEmpty();
    assertThat(Path.of("/etc/netns")).isDirectoryNotContaining(p -> p.getFileName().toString().startsWith(lab.prefix()));
  }

  @Test
  void labOfAJvmKilledWithoutCloseIsSweptByTheNextCreate() {
    HolderJvm jvm = startHolder();
    Process holder = jvm.process();
    try {
      Holder h = awaitHolderReady(jvm);
      assertThat(NetnsLab.leftovers(h.prefix, h.inodes)).as("lab of the living holder").isNotEmpty();

      holder.destroyForcibly(); // SIGKILL: no shutdown hook runs
      await().atMost(Duration.ofSeconds(10)).until(() -> !holder.isAlive());
      assertThat(NetnsLab.leftovers(h.prefix, h.inodes)).as("left behind by kill -9").isNotEmpty();
      assertThat(Path.of("/proc", Long.toString(h.podPid))).exists();

      try (NetnsLab next = NetnsLab.create()) {
        assertThat(NetnsLab.leftovers(h.prefix, h.inodes)).as("swept by create()").isEmpty();
        assertThat(next.run(Node.CLIENT, SHORT, "curl", "-sS", "--max-time", "5", "http://pod:8080/").stdout())
            .isEqualTo("hello from pod: GET /\n");
      }
    } finally {
      holder.destroyForcibly();
    }
  }

  @Test
  void shutdownHookTearsTheLabDownWhenTheJvmIsTerminated() throws InterruptedException {
    HolderJvm jvm = startHolder();
    Process holder = jvm.process();
    try {
      Holder h = awaitHolderReady(jvm);
      holder.destroy(); // SIGTERM: the JVM runs its shutdown hooks
      assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(NetnsLab.leftovers(h.prefix, h.inodes)).isEmpty();
    } finally {
      holder.destroyForcibly();
    }
  }

  private record Holder(String prefix, List<Long> inodes, long podPid) {}

  /** A child JVM running LabHolderMain, output to a file. */
  private record HolderJvm(Process process, Path output) {}

  private static HolderJvm startHolder() {
    try {
      Path logs = LabPaths.repoRoot().resolve("e2e/target/lab-logs");
      Files.createDirectories(logs);
      Path out = Files.createTempFile(logs, "holder-", ".out");
      Process p = new ProcessBuilder(JavaApps.command(LabHolderMain.class))
          .redirectErrorStream(true)
          .redirectOutput(out.toFile())
          .start();
      return new HolderJvm(p, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Holder awaitHolderReady(HolderJvm holder) {
    String text = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> {
          String s = Files.readString(holder.output());
          if (!holder.process().isAlive() && !s.contains("READY")) {
            throw new AssertionError("holder JVM exited " + holder.process().exitValue() + ":\n" + s);
          }
          return s;
        }, s -> s.contains("READY\n"));
    Matcher prefix = Pattern.compile("LAB_PREFIX=(\\w+)").matcher(text);
    Matcher inodes = Pattern.compile("LAB_INODES=([\\d,]+)").matcher(text);
    Matcher pid = Pattern.compile("LAB_POD_PID=(\\d+)").matcher(text);
    assertThat(prefix.find() && inodes.find() && pid.find()).as(text).isTrue();
    return new Holder(prefix.group(1), Arrays.stream(inodes.group(1).split(",")).map(Long::valueOf).toList(),
        Long.parseLong(pid.group(1)));
  }

  private static String host(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
