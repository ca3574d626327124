package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.ConnectProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Session;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Outgoing connects in a child JVM (JDK 17 and the build's JDK) against FakeAgent, which plays the
 * CLI: it answers each {@code ConnectRequest} with the loopback endpoint of an echo server of this
 * test, or with the errno of a failed connect. So every byte stays on loopback: the destinations
 * (198.18.0.x) are never dialled; the child's connects are rewritten to the endpoints.
 */
class OutgoingIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  @TempDir Path dir;
  private FakeAgent agent;
  private ServerSocket tcpEcho;
  private DatagramSocket udpEcho;
  private Thread echoThreads;

  @BeforeEach
  void start() throws Exception {
    agent = FakeAgent.start();
    tcpEcho = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    udpEcho = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    Thread tcp = daemon(() -> {
      while (!tcpEcho.isClosed()) {
        try {
          Socket s = tcpEcho.accept();
          daemon(() -> echo(s));
        } catch (Exception e) {
          return;
        }
      }
    });
    daemon(() -> {
      byte[] buf = new byte[2048];
      while (!udpEcho.isClosed()) {
        try {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          udpEcho.receive(p);
          udpEcho.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
        } catch (Exception e) {
          return;
        }
      }
    });
    echoThreads = tcp;
    InetSocketAddress tcpEnd = (InetSocketAddress) tcpEcho.getLocalSocketAddress();
    agent.route("198.18.0.20:9000", tcpEnd)
        .route("198.18.0.20:9001", (InetSocketAddress) udpEcho.getLocalSocketAddress())
        .route("127.0.0.153:53", (InetSocketAddress) udpEcho.getLocalSocketAddress())
        .failConnect("198.18.0.20:9999", Outgoing.ECONNREFUSED)
        .failConnect("198.18.0.21:9000", Outgoing.EHOSTUNREACH)
        .failConnect("198.18.0.22:9000", Outgoing.ETIMEDOUT)
        // answered after the app's wait (its 2 s timeout + 2 s), with an answer that must not count
        .failConnect("198.18.0.23:9000", Outgoing.ECONNREFUSED)
        .answerConnectAfter("198.18.0.23:9000", 4_500)
        // a slow connect that is still waiting when that late answer comes
        .route("198.18.0.24:9000", tcpEnd)
        .answerConnectAfter("198.18.0.24:9000", 1_000);
  }

  /** The peer name of the layer's connections for connects (its main one's, tagged). */
  private static boolean connects(String peer) {
    return peer.endsWith(" (connects)");
  }

  private long connectsConnections() {
    return agent.peersOf(Session.Hello.class).stream().filter(OutgoingIT::connects).count();
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "echo");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void echo(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      in.transferTo(out);
    } catch (Exception ignored) {
      // the probe closed
    }
  }

  @AfterEach
  void stop() throws Exception {
    tcpEcho.close();
    udpEcho.close();
    echoThreads.join(2000);
    agent.close();
  }

  private ChildJvm.Result run(Path jdk, Map<String, String> session, String... probes) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    return ChildJvm.run(
        jdk,
        List.of(),
        SessionFile.write(dir, agent.port(), session).toString(),
        List.of(ChildJvm.testClasses()),
        ConnectProbeApp.class,
        List.of(probes),
        dir);
  }


  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void everyKindOfConnectGoesThroughTheTargetAndReportsTheAddressItAskedFor(String name, Path jdk)
      throws Exception {
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.20:9000", "channel:198.18.0.20:9000", "async:198.18.0.20:9000",
        "udp:198.18.0.20:9001", "dchannel:198.18.0.20:9001");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).as(r.toString()).isEmpty();
    assertThat(r.value("socket:198.18.0.20:9000")).isEqualTo("ping peer=/198.18.0.20:9000 port=9000");
    assertThat(r.value("channel:198.18.0.20:9000")).isEqualTo("ping peer=/198.18.0.20:9000");
    assertThat(r.value("async:198.18.0.20:9000")).isEqualTo("ping peer=/198.18.0.20:9000");
    assertThat(r.value("udp:198.18.0.20:9001"))
        .isEqualTo("ping peer=/198.18.0.20:9001 from=/198.18.0.20:9001");
    assertThat(r.value("dchannel:198.18.0.20:9001")).isEqualTo("ping peer=/198.18.0.20:9001");
    assertThat(agent.received(Outgoing.ConnectRequest.class))
        .extracting(c -> c.protocol() + " " + c.address() + ":" + c.port())
        .containsExactly("TCP 198.18.0.20:9000", "TCP 198.18.0.20:9000", "TCP 198.18.0.20:9000",
            "UDP 198.18.0.20:9001", "UDP 198.18.0.20:9001");
    assertThat(agent.received(Outgoing.ConnectRequest.class).get(0).timeoutMillis())
        .as("the app's connect timeout travels").isEqualTo(2000);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aDnsQueryToALoopbackResolverGoesToTheTargetsNameServer(String name, Path jdk) throws Exception {
    ChildJvm.Result r = run(jdk, Map.of(), "dns:127.0.0.153:53", "dns:127.0.0.153:53");

    // FakeAgent "is" the target's name server here: it echoes the query back.
    assertThat(r.value("dns:127.0.0.153:53")).as(r.toString()).isEqualTo("ping from=/127.0.0.153:53");
    assertThat(agent.received(Outgoing.ConnectRequest.class))
        .as("one relay per resolver address, reused by later queries")
        .extracting(c -> c.protocol() + " " + c.address() + ":" + c.port())
        .containsExactly("DNS_UDP 127.0.0.153:53");

    ChildJvm.Result local = run(jdk, Map.of("dns.remote", "false"), "dns:127.0.0.153:53");
    assertThat(local.value("dns:127.0.0.153:53")).isEqualTo("no answer");
    assertThat(agent.received(Outgoing.ConnectRequest.class)).hasSize(1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void failuresInTheTargetAreTheJdksOwnExceptions(String name, Path jdk) throws Exception {
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.20:9999", "channel:198.18.0.20:9999", "async:198.18.0.20:9999",
        "socket:198.18.0.21:9000",
        "socket:198.18.0.22:9000", "channel:198.18.0.22:9000");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("socket:198.18.0.20:9999")).isEqualTo("java.net.ConnectException: Connection refused");
    assertThat(r.value("channel:198.18.0.20:9999")).isEqualTo("java.net.ConnectException: Connection refused");
    assertThat(r.value("async:198.18.0.20:9999"))
        .as("an async connect fails through its future, as the JDK's own")
        .isEqualTo("java.net.ConnectException: Connection refused");
    assertThat(r.value("socket:198.18.0.21:9000")).isEqualTo("java.net.NoRouteToHostException: No route to host");
    assertThat(r.value("socket:198.18.0.22:9000")).isEqualTo("java.net.SocketTimeoutException: Connect timed out");
    assertThat(r.value("channel:198.18.0.22:9000")).isEqualTo("java.net.ConnectException: Connection timed out");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void loopbackStaysLocalAndAFilterKeepsMatchingDestinationsOffTheTarget(String name, Path jdk)
      throws Exception {
    int echoPort = tcpEcho.getLocalPort();
    ChildJvm.Result r = run(jdk, Map.of("outgoing.filter.local", "198.18.0.20:9999"),
        "socket:127.0.0.1:" + echoPort, "socket:198.18.0.20:9000");

    assertThat(r.value("socket:127.0.0.1:" + echoPort)).startsWith("ping peer=/127.0.0.1:" + echoPort);
    assertThat(r.value("socket:198.18.0.20:9000")).startsWith("ping peer=/198.18.0.20:9000");
    assertThat(agent.received(Outgoing.ConnectRequest.class))
        .extracting(c -> c.address() + ":" + c.port())
        .containsExactly("198.18.0.20:9000");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void anAppsOwnNettyEpollConnectGoesThroughTheTarget(String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path libs = Path.of(System.getProperty("mirrord.it.epollLibs", "target/it-epoll-libs"));
    List<Path> cp = new java.util.ArrayList<>();
    cp.add(ChildJvm.testClasses());
    try (java.util.stream.Stream<Path> jars = Files.list(libs)) {
      jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(cp::add);
    }
    ChildJvm.Result r = ChildJvm.run(jdk, SessionFile.write(dir, agent.port(), Map.of()).toString(), cp,
        dev.mirrord.jvm.layer.testapp.EpollClientApp.class, List.of("198.18.0.20:9000"), dir);

    assertThat(r.stdout()).as(r.toString())
        .contains("epoll.available=true", "echo=ping", "peer=/198.18.0.20:9000", "done=true");
    assertThat(agent.received(Outgoing.ConnectRequest.class))
        .extracting(c -> c.address() + ":" + c.port())
        .containsExactly("198.18.0.20:9000");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void tcpConnectsAreAskedOnTheAppThreadsOwnConnectionUdpOnesOnTheMainOne(String name, Path jdk)
      throws Exception {
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.20:9000", "socket:198.18.0.20:9000", "channel:198.18.0.20:9000",
        "async:198.18.0.20:9000", "udp:198.18.0.20:9001", "socket:198.18.0.20:9000");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(String.join("\n", r.stdout())).as(r.toString()).doesNotContain("Exception");
    List<String> peers = agent.peersOf(Outgoing.ConnectRequest.class);
    assertThat(peers).hasSize(6);
    assertThat(peers.get(4)).as("UDP flows end with the connection that opened them: the main one")
        .doesNotEndWith("(connects)");
    assertThat(List.of(peers.get(0), peers.get(1), peers.get(2), peers.get(3), peers.get(5)))
        .allMatch(OutgoingIT::connects);
    assertThat(connectsConnections()).as("one thread connecting in turn needs one connection")
        .isEqualTo(1);
    assertThat(agent.received(Session.Hello.class)).extracting(Session.Hello::token)
        .as("each connection does the handshake").containsOnly(FakeAgent.TOKEN).hasSize(2);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectAnsweredTooLateTimesOutAndItsAnswerNeverCountsForTheNextConnect(String name, Path jdk)
      throws Exception {
    long start = System.nanoTime();
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.23:9000", "socket:198.18.0.24:9000", "socket:198.18.0.20:9000");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("socket:198.18.0.23:9000")).as(r.toString())
        .isEqualTo("java.net.SocketTimeoutException: Connect timed out");
    assertThat(System.nanoTime() - start).as("the app's 2 s timeout + 2 s margin")
        .isGreaterThan(4_000_000_000L);
    assertThat(r.value("socket:198.18.0.24:9000"))
        .as("the late refusal arrives while this one waits (0.5 s into its 1 s), and is not its answer")
        .isEqualTo("ping peer=/198.18.0.24:9000 port=9000");
    assertThat(r.value("socket:198.18.0.20:9000")).isEqualTo("ping peer=/198.18.0.20:9000 port=9000");
    assertThat(agent.peersOf(Outgoing.ConnectRequest.class)).hasSize(3).allMatch(OutgoingIT::connects);
    assertThat(connectsConnections()).as("a timed-out connection stays in use").isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectionTheCliDropsUnderARequestIsReplacedWithoutFailingTheConnect(String name, Path jdk)
      throws Exception {
    agent.dropConnectRequest(2);
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.20:9000", "socket:198.18.0.20:9000", "socket:198.18.0.20:9000");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(String.join("\n", r.stdout())).as(r.toString()).doesNotContain("Exception");
    assertThat(r.stdout().stream().filter(l -> l.equals(
        "socket:198.18.0.20:9000=ping peer=/198.18.0.20:9000 port=9000"))).hasSize(3);
    assertThat(agent.peersOf(Outgoing.ConnectRequest.class)).as("the dropped one asked again")
        .hasSize(4).allMatch(OutgoingIT::connects);
    assertThat(connectsConnections()).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void anIdleConnectionTheCliClosedIsReplacedWithoutFailingTheConnect(String name, Path jdk)
      throws Exception {
    agent.closeAfterConnectAnswer(1);
    ChildJvm.Result r = run(jdk, Map.of(),
        "socket:198.18.0.20:9000", "pause:-:100", "socket:198.18.0.20:9000");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout().stream().filter(l -> l.equals(
        "socket:198.18.0.20:9000=ping peer=/198.18.0.20:9000 port=9000"))).as(r.toString()).hasSize(2);
    assertThat(agent.peersOf(Outgoing.ConnectRequest.class)).as("nothing lost on the closed one")
        .hasSize(2).allMatch(OutgoingIT::connects);
    assertThat(connectsConnections()).isEqualTo(2);
  }
}
