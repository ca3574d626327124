package dev.mirrord.jvm.e2e.outgoing;

import dev.mirrord.jvm.e2e.lab.HostCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.OutgoingApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import dev.mirrord.jvm.e2e.lab.WithDatabases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Outgoing TCP/UDP through the pod and DNS in the pod's context (issue 6), with {@link OutgoingApp} on JDK 17 (and
 * under mirrord on JDK 25 too):
 * a JDBC query (PostgreSQL driver, {@code jdbc:postgresql://postgres:5432/app}), Redis SET/GET (Jedis, {@code
 * redis:6379}), an {@code HttpClient} GET ({@code http://svc:8080/}), TCP echo by {@code Socket} and non-blocking
 * {@code SocketChannel} ({@code svc:9000}), connected-UDP echo by {@code DatagramSocket} and {@code DatagramChannel}
 * ({@code svc:9001}), and a lookup through Netty's {@code DnsNameResolver} sent to the cluster DNS 198.18.0.53:53 —
 * cluster names only; short names resolve through the pod's search domains.
 *
 * <p><b>Where the "local" side runs.</b> The issue says "from the root namespace, which has no route into the lab".
 * This machine's root namespace has a default route, so a connect to 198.18.0.20 that mirrord failed to take over
 * would leave the machine — which the traffic rule forbids. So the app and mirrord run in a namespace {@code
 * <prefix>-dev} with only a loopback (as the incoming tests do): the same "no route into the lab", but a local
 * connect fails at once ({@code Network is unreachable}) and nothing can leave. Its {@code /etc/resolv.conf} (bind-
 * mounted by {@code ip netns exec}) says {@code nameserver 127.0.0.1}, where nothing listens: local name resolution
 * fails at once too, and no query leaves. The CLI reaches its agent over a unix socket and the agent enters the pod's
 * namespace itself, so nothing in mirrord needs the root namespace.
 *
 * <p>Every mirrord run ends with {@link #assertNothingLeft}: no agent for the pod, no process left in the dev or pod
 * namespace, no connection left open in the pod, no {@code MIRRORD} iptables rule in the pod, the session directory
 * gone, and no namespace added.
 */
@ExtendWith(NetnsLabExtension.class)
@WithDatabases
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class OutgoingE2EIT {
  /** Bound for one app run (the checks are bounded by 5 s each) or one whole {@code mirrord exec}. */
  private static final Duration RUN = Duration.ofSeconds(90);

  /**
   * What the app prints when it runs inside the pod: the contract for mirrord. Remote addresses are the ones the app
   * asked for ({@code svc/198.18.0.20:9000}), UDP replies come from the service's address.
   */
  private static final Map<String, String> IN_THE_POD = orderedMap(
      "dns", "ok 198.18.0.20",
      "jdbc", "ok app:hello from jdbc",
      "redis", "ok hello from redis",
      "http", "ok hello from svc: GET /outgoing",
      "tcp", "ok ping-tcp remote=svc/198.18.0.20:9000 inet=svc/198.18.0.20",
      "tcpchannel", "ok ping-tcpchannel remote=svc/198.18.0.20:9000",
      "udp", "ok ping-udp remote=svc/198.18.0.20:9001 inet=svc/198.18.0.20 from=/198.18.0.20:9001",
      "udpchannel", "ok ping-udpchannel remote=svc/198.18.0.20:9001 from=/198.18.0.20:9001",
      "netty", "ok 198.18.0.20");

  /**
   * The root cause of each failure when cluster names do not resolve (as measured in the dev namespace without
   * mirrord): the JDK's resolver or {@code InetSocketAddress} left unresolved; Netty's query to 198.18.0.53 has no
   * route.
   */
  private static final Map<String, String> WITHOUT_CLUSTER_DNS = orderedMap(
      "dns", "UnknownHostException",
      "jdbc", "UnknownHostException",
      "redis", "UnknownHostException",
      "http", "UnresolvedAddressException",
      "tcp", "UnknownHostException",
      "tcpchannel", "UnresolvedAddressException",
      "udp", "UnresolvedAddressException",
      "udpchannel", "UnresolvedAddressException",
      "netty", "SocketException");

  /** OutgoingApp's error probes and the root cause each gets inside the pod. */
  private static final Map<String, String> ERROR_PROBES = orderedMap(
      "refused", "ConnectException",
      // timeout before noroute: while 198.18.0.99's neighbour entry is still being resolved, not yet FAILED
      "timeout", "SocketTimeoutException",
      "noroute", "NoRouteToHostException");

  /** The checks that open connections (all but the two lookups). */
  private static final List<String> CONNECTIONS =
      List.of("jdbc", "redis", "http", "tcp", "tcpchannel", "udp", "udpchannel");

  private static final Pattern RESULT = Pattern.compile("^(\\w+) (ok|failed) (.*)$", Pattern.MULTILINE);
  private static final Pattern FAILURE = Pattern.compile("^(\\w+): .*\\(([\\w >]+)\\)$");
  private static final Pattern SESSION_LINE = Pattern.compile("session (\\S+) in (\\S+), log ");
  private static final AtomicInteger RUNS = new AtomicInteger();

  @BeforeAll
  static void jarsAreBuilt() throws IOException, InterruptedException {
    // bin/mirrord builds the jars if they are stale: here, outside every test's time bound.
    Process p = new ProcessBuilder(bin().toString(), "--version").redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("bin/mirrord --version in 10 min").isTrue();
    assertThat(p.exitValue()).as("bin/mirrord --version:\n%s", out).isZero();
  }

  /** (i) Proves the lab: inside the pod's namespace every check passes, by cluster names. */
  @Test
  void insideThePodsNamespaceEveryCheckPasses(NetnsLab lab) {
    ExecResult r = lab.run(Node.POD, RUN, app().toArray(String[]::new));

    assertThat(results(r.stdout())).as("%s", r).containsExactlyEntriesOf(IN_THE_POD);
    assertThat(r.exitCode()).as("%s", r).isZero();
  }

  /** (ii) Outside the lab, without mirrord, nothing works: no cluster DNS, no route. */
  @Test
  void withoutMirrordEveryCheckFailsOutsideTheLab(NetnsLab lab) {
    ExecResult r = runIn(lab, devNamespace(lab), app());

    assertThat(failureRoots(r)).as("%s", r).containsExactlyEntriesOf(WITHOUT_CLUSTER_DNS);
    assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
  }

  /**
   * (iii) Under mirrord, outside the lab: every check passes exactly as inside the pod — the connections are made from
   * the pod's namespace, the names resolve through the pod's resolv.conf, the Netty resolver's own UDP query to the
   * cluster DNS is answered, and the app's sockets report the addresses it asked for, never a local relay's.
   */
  @ParameterizedTest(name = "on JDK {0}")
  @ValueSource(ints = {17, 25})
  void underMirrordEveryCheckPassesAsInsideThePod(int jdk, NetnsLab lab) {
    // 17: the layer hooks resolution itself; 18+: it may use the InetAddressResolverProvider SPI (issue 6, item 4).
    Path java = jdk == 17 ? JavaApps.java17() : JavaApps.javaExecutable(); // the build's JDK: 25 (enforcer)
    MirrordResult r = mirrord(lab, "all-jdk" + jdk, List.of(), app(java));

    assertThat(results(r.stdout())).as("%s", r).containsExactlyEntriesOf(IN_THE_POD);
    assertThat(r.stdout()).as("no socket reports a local relay\n%s", r).doesNotContain("127.0.0.1").doesNotContain("0:0:0:0:0:0:0:1");
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertNothingLeft(lab, r);
  }

  /**
   * (iii, errors) A connect made through the pod fails as it fails in the pod: refused → {@code ConnectException}, an
   * address nobody has → {@code NoRouteToHostException}, and the app's own connect timeout is honoured → {@code
   * SocketTimeoutException} (issue 6, item 1: "Errors are faithful").
   */
  @Test
  void underMirrordConnectErrorsAreThePodsErrors(NetnsLab lab) {
    ExecResult inPod = lab.run(Node.POD, RUN, app(ERROR_PROBES.keySet().toArray(String[]::new)).toArray(String[]::new));
    assertThat(failureRoots(inPod)).as("in the pod: %s", inPod).containsExactlyEntriesOf(ERROR_PROBES);

    MirrordResult r = mirrord(lab, "errors", List.of(), ERROR_PROBES.keySet().toArray(String[]::new));

    assertThat(failureRoots(r)).as("%s", r).containsExactlyEntriesOf(ERROR_PROBES);
    assertNothingLeft(lab, r);
  }

  /**
   * (iv) {@code --no-outgoing}: every connection stays local and fails as it does without mirrord (names may still
   * resolve in the pod: DNS is its own feature; so the failure is "no route" or "unknown host", never a success).
   */
  @Test
  void withNoOutgoingConnectionsStayLocalAndFail(NetnsLab lab) {
    MirrordResult r = mirrord(lab, "no-outgoing", List.of("--no-outgoing"), CONNECTIONS.toArray(String[]::new));

    Map<String, String> roots = failureRoots(r);
    assertThat(roots.keySet()).as("%s", r).containsExactlyElementsOf(CONNECTIONS);
    assertThat(roots).as("failed locally: unknown host or no route\n%s", r).allSatisfy((check, root) ->
        assertThat(root).isIn("UnknownHostException", "UnresolvedAddressException", "SocketException",
            "NoRouteToHostException", "ConnectException"));
    assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
    assertNothingLeft(lab, r);
  }

  /**
   * (v) {@code --no-remote-dns}: cluster names do not resolve (as without mirrord), and Netty's query to the cluster
   * DNS stays local (no route) instead of being answered by the pod.
   */
  @Test
  void withNoRemoteDnsClusterNamesFailAsWithoutMirrord(NetnsLab lab) {
    MirrordResult r = mirrord(lab, "no-remote-dns", List.of("--no-remote-dns"));

    assertThat(failureRoots(r)).as("%s", r).containsExactlyEntriesOf(WITHOUT_CLUSTER_DNS);
    assertThat(r.exitCode()).as("%s", r).isEqualTo(1);
    assertNothingLeft(lab, r);
  }

  // ---------------------------------------------------------------------------------------------------------------

  static Path bin() {
    return LabPaths.repoRoot().resolve("bin/mirrord");
  }

  /** {@code <JDK 17 java> -cp <test classes + client jars> OutgoingApp checks…}. */
  private static List<String> app(String... checks) {
    return JavaApps.libraryCommand17(OutgoingApp.class, checks);
  }

  /** Like {@link #app(String...)} (all checks) on the JDK of {@code java}. */
  private static List<String> app(Path java) {
    return JavaApps.libraryCommand(java, OutgoingApp.class);
  }

  /** The dev namespace {@code <prefix>-dev}: loopback only, resolv.conf pointing at 127.0.0.1; created once per lab. */
  static String devNamespace(NetnsLab lab) {
    return lab.devNamespace("dev");
  }

  /** Runs {@code command} in namespace {@code ns} to its end (bounded by {@link #RUN}). */
  static ExecResult runIn(NetnsLab lab, String ns, List<String> command) {
    try (LabProcess p = lab.exec(ns, Map.of(), command)) {
      int exit = p.waitFor(RUN);
      return new ExecResult(exit, p.stdout(), p.stderr());
    }
  }

  /** One {@code mirrord exec} of the app from the dev namespace, to its end, with what it left to check. */
  record MirrordResult(int exitCode, String stdout, String stderr, Path dir, String devNs, Set<String> nsBefore) {
    String mirrordLog() {
      return read(dir.resolve("mirrord.log"));
    }

    Optional<Matcher> session() {
      Matcher m = SESSION_LINE.matcher(mirrordLog());
      return m.find() ? Optional.of(m) : Optional.empty();
    }

    @Override
    public String toString() {
      String id = session().map(m -> m.group(1)).orElse("?");
      return "mirrord run in " + dir + " exited " + exitCode + "\n--- stdout:\n" + stdout + "--- stderr:\n"
          + tail(stderr) + "--- mirrord.log:\n" + tail(mirrordLog()) + "--- agent log:\n"
          + tail(read(dir.resolve("mirrord-" + id + "-agent.log"))) + "--- layer log:\n"
          + tail(read(dir.resolve("mirrord-" + id + "-layer.log")));
    }
  }

  /**
   * {@code bin/mirrord exec --target pid/<pod> <flags> -- <app checks…>} in the dev namespace, as {@code env -u
   * JAVA_TOOL_OPTIONS… MIRRORD_LOG_FILE=<dir>/mirrord.log bin/mirrord …} (the CLI's, agent's and layer's logs land in
   * {@code <dir>}); waits for the end.
   */
  private static MirrordResult mirrord(NetnsLab lab, String name, List<String> flags, String... checks) {
    return mirrord(lab, name, flags, app(checks));
  }

  static MirrordResult mirrord(NetnsLab lab, String name, List<String> flags, List<String> app) {
    String ns = devNamespace(lab);
    Path dir = lab.logDir().resolve(String.format(Locale.ROOT, "outgoing-%02d-%s", RUNS.incrementAndGet(), name));
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<String> nsBefore = labNamespaces(lab);
    List<String> cmd = new ArrayList<>(List.of("env", "-u", "JAVA_TOOL_OPTIONS", "-u", "JDK_JAVA_OPTIONS", "-u",
        "_JAVA_OPTIONS", "-u", "CLASSPATH", "MIRRORD_LOG_FILE=" + dir.resolve("mirrord.log"),
        bin().toString(), "exec", "--target", "pid/" + lab.podPid()));
    cmd.addAll(flags);
    cmd.add("--");
    cmd.addAll(app);
    try (LabProcess p = lab.exec(ns, Map.of(), cmd)) {
      int exit = p.waitFor(RUN);
      return new MirrordResult(exit, p.stdout(), p.stderr(), dir, ns, nsBefore);
    }
  }

  /**
   * (vi) What a finished session may not leave: an agent for the pod, a process in the dev namespace (CLI, app) or in
   * the pod's namespace other than the pod's server, an established TCP connection in the pod (the agent's outgoing
   * flows), a MIRRORD iptables rule in the pod, the session directory, a new namespace of this lab.
   */
  static void assertNothingLeft(NetnsLab lab, MirrordResult r) {
    Awaitility.await("the session's processes gone")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> {
          assertThat(agentProcesses(lab.podPid())).as("agents for pod %d\n%s", lab.podPid(), r).isEmpty();
          assertThat(processesIn(r.devNs())).as("processes in %s\n%s", r.devNs(), r).isEmpty();
          assertThat(processesIn(lab.namespace(Node.POD))).as("processes in the pod's namespace\n%s", r)
              .allMatch(p -> p.startsWith(lab.podPid() + " "), "the pod's server");
          assertThat(lab.run(Node.POD, Duration.ofSeconds(15), "ss", "-Htn", "state", "established").stdout())
              .as("established TCP connections in the pod's namespace\n%s", r).isBlank();
        });
    r.session().ifPresent(m -> assertThat(Path.of(m.group(2))).as("session directory\n%s", r).doesNotExist());
    for (String tool : List.of("iptables-save", "ip6tables-save")) {
      ExecResult rules = lab.run(Node.POD, Duration.ofSeconds(15), tool);
      assertThat(rules.stdout().lines().filter(l -> l.toUpperCase(Locale.ROOT).contains("MIRRORD")).toList())
          .as("%s in the pod\n%s", tool, r).isEmpty();
    }
    assertThat(labNamespaces(lab)).as("namespaces of lab %s", lab.prefix()).isEqualTo(r.nsBefore());
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** {@code check -> "ok …" / "failed …"}, in the order printed. */
  static Map<String, String> results(String stdout) {
    Map<String, String> found = new LinkedHashMap<>();
    Matcher m = RESULT.matcher(stdout);
    while (m.find()) {
      found.put(m.group(1), m.group(2) + " " + m.group(3));
    }
    return found;
  }

  /** {@code check -> root cause class} of every check; an "ok" check maps to "ok <value>" (so it fails loudly). */
  static Map<String, String> failureRoots(String stdout) {
    Map<String, String> roots = new LinkedHashMap<>();
    results(stdout).forEach((check, result) -> {
      Matcher m = FAILURE.matcher(result.startsWith("failed ") ? result.substring(7) : "");
      roots.put(check, m.matches() ? m.group(1) : result);
    });
    return roots;
  }

  private static Map<String, String> failureRoots(ExecResult r) {
    return failureRoots(r.stdout());
  }

  private static Map<String, String> failureRoots(MirrordResult r) {
    return failureRoots(r.stdout());
  }

  static Map<String, String> orderedMap(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Live agents of mirrord for {@code podPid}: "pid cmdline". */
  private static List<String> agentProcesses(long podPid) {
    List<String> found = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      for (Path p : entries.toList()) {
        String name = p.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit)) {
          String cmd = cmdline(Long.parseLong(name));
          if (cmd.contains("mirrord-pod-agent") && cmd.contains("--target-pid " + podPid + " ")) {
            found.add(name + " " + cmd);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  /** Processes in namespace {@code ns} ({@code ip netns pids}; zombies have no namespace and do not count). */
  private static List<String> processesIn(String ns) {
    List<String> found = new ArrayList<>();
    for (String pid : host("ip", "netns", "pids", ns).lines().map(String::strip).filter(s -> !s.isEmpty()).toList()) {
      String cmd = cmdline(Long.parseLong(pid));
      if (!cmd.isEmpty()) {
        found.add(pid + " " + cmd);
      }
    }
    return found;
  }

  private static Set<String> labNamespaces(NetnsLab lab) {
    return Set.copyOf(host("ip", "netns", "list").lines().map(l -> l.split(" ")[0])
        .filter(n -> n.startsWith(lab.prefix() + "-")).toList());
  }

  private static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ').strip();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String host(String... cmd) {
    return HostCommand.run(cmd);
  }


  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private static String tail(String s) {
    return (s.length() > 6000 ? "…" + s.substring(s.length() - 6000) : s) + (s.isEmpty() || s.endsWith("\n") ? "" : "\n");
  }
}
