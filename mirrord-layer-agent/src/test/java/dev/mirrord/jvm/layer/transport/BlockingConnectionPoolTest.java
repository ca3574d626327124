package dev.mirrord.jvm.layer.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connects' own connections ({@link BlockingConnectionPool}) against FakeAgent, in-process. */
class BlockingConnectionPoolTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetSocketAddress SVC = new InetSocketAddress("198.18.0.20", 9000);
  private static final InetSocketAddress SLOW = new InetSocketAddress("198.18.0.24", 9000);
  private static final InetSocketAddress ENDPOINT = new InetSocketAddress("127.0.0.1", 40_000);

  @TempDir Path dir;
  private FakeAgent agent;
  private ProxyConnection connection;
  private ProxyConnector connector;
  private final List<AgentMessage> unsolicited = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    agent = FakeAgent.start().route("198.18.0.20:9000", ENDPOINT).route("198.18.0.24:9000", ENDPOINT)
        .answerConnectAfter("198.18.0.24:9000", 500).route("198.18.0.20:53", ENDPOINT);
    LayerLog log = LayerLog.open(dir.resolve("layer.log"), LayerLog.Level.DEBUG);
    connection = ProxyConnection.open("127.0.0.1", agent.port(),
        new Session.Hello(ProtocolVersion.CURRENT, FakeAgent.TOKEN, "layer pid=1 test"), TIMEOUT, log);
    connection.onMessage(unsolicited::add);
    connector = new ProxyConnector(() -> connection);
  }

  @AfterEach
  void stop() {
    connection.close();
    agent.close();
  }

  private RemoteResult<Outgoing.Connected> connect(InetSocketAddress to) throws Exception {
    return connector.connect(Outgoing.Protocol.TCP, to, 1000, 3000);
  }

  @Test
  void aFlowsForgetSentOnTheConnectsConnectionReachesTheListenersWhileItIsIdle() throws Exception {
    int port = connect(SVC).value().localPort();

    agent.sendTo("(connects)", Tcp.IncomingPeer.forget(port));

    await().atMost(Duration.ofSeconds(3)).until(() -> unsolicited.contains(Tcp.IncomingPeer.forget(port)));
    assertThat(agent.peersOf(Outgoing.ConnectRequest.class)).containsExactly("layer pid=1 test (connects)");
  }

  @Test
  void whatCameWhileIdleIsDeliveredByTheNextConnectAtTheLatest() throws Exception {
    List<AgentMessage> seen = new ArrayList<>();
    try (BlockingProxyConnection c = BlockingProxyConnection.open(
        new InetSocketAddress("127.0.0.1", agent.port()),
        new Session.Hello(ProtocolVersion.CURRENT, FakeAgent.TOKEN, "layer pid=1 test (connects)"),
        System.nanoTime() + TIMEOUT.toNanos())) {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      Outgoing.ConnectResponse first =
          c.connect(new Outgoing.ConnectRequest(1, Outgoing.Protocol.TCP, "198.18.0.20", 9000, 0), deadline, seen::add);
      int port = first.result().value().localPort();
      assertThat(c.hasOpenFlows()).isTrue();
      agent.sendTo("(connects)", Tcp.IncomingPeer.forget(port));
      Thread.sleep(100); // on the socket; nobody reads it (no pool, no sweep)
      assertThat(seen).isEmpty();

      c.connect(new Outgoing.ConnectRequest(2, Outgoing.Protocol.TCP, "198.18.0.20", 9000, 0), deadline, seen::add);

      assertThat(seen).containsExactly(Tcp.IncomingPeer.forget(port));
      assertThat(c.hasOpenFlows()).as("the second flow is open").isTrue();
    }
  }

  @Test
  void udpAndDnsFlowsStayOnTheMainConnection() throws Exception {
    connector.connect(Outgoing.Protocol.UDP, SVC, 0, 3000);
    connector.connect(Outgoing.Protocol.DNS_UDP, new InetSocketAddress("198.18.0.20", 53), 0, 3000);

    assertThat(agent.peersOf(Outgoing.ConnectRequest.class))
        .containsExactly("layer pid=1 test", "layer pid=1 test");
    assertThat(connection.connectPool().openConnections()).isZero();
  }

  @Test
  void concurrentConnectsOpenAtMostTheCapAndTheRestTakeTheMainConnection() throws Exception {
    int n = BlockingConnectionPool.MAX_CONNECTIONS + 2;
    ExecutorService threads = Executors.newFixedThreadPool(n);
    try {
      List<Future<RemoteResult<Outgoing.Connected>>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(threads.submit(() -> connect(SLOW))); // each answered 500 ms late: all in flight
      }
      for (Future<RemoteResult<Outgoing.Connected>> r : results) {
        assertThat(r.get().isOk()).isTrue();
      }
    } finally {
      threads.shutdownNow();
    }
    List<String> peers = agent.peersOf(Outgoing.ConnectRequest.class);
    assertThat(peers.stream().filter(p -> p.endsWith("(connects)")))
        .hasSize(BlockingConnectionPool.MAX_CONNECTIONS);
    assertThat(peers.stream().filter(p -> p.equals("layer pid=1 test"))).hasSize(2);
    assertThat(connection.connectPool().idleConnections()).isEqualTo(BlockingConnectionPool.MAX_CONNECTIONS);
  }

  @Test
  void anInterruptedThreadGetsAnInterruptedIoExceptionAndTheConnectionSurvives() throws Exception {
    connect(SVC);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> connect(SLOW)).isInstanceOf(InterruptedIOException.class);
      assertThat(Thread.interrupted()).as("the interrupt status stays set").isTrue();
    } finally {
      Thread.interrupted();
    }

    assertThat(connect(SVC).isOk()).isTrue();
    assertThat(connection.connectPool().openConnections()).isEqualTo(1);
  }

  @Test
  void theSweepDropsAConnectionTheCliClosedAndTheNextConnectOpensAnother() throws Exception {
    connect(SVC);
    agent.closeAfterConnectAnswer(2);
    connect(SVC);

    await().atMost(Duration.ofSeconds(3)).until(() -> connection.connectPool().openConnections() == 0);
    assertThat(connect(SVC).isOk()).isTrue();
    assertThat(agent.peersOf(Session.Hello.class))
        .containsExactly("layer pid=1 test", "layer pid=1 test (connects)", "layer pid=1 test (connects)");
  }

  @Test
  void closingTheMainConnectionClosesThePool() throws Exception {
    connect(SVC);
    assertThat(agent.openConnections()).isEqualTo(2);

    connection.close();

    await().atMost(Duration.ofSeconds(3)).until(() -> agent.openConnections() == 0);
    assertThat(connection.connectPool().openConnections()).isZero();
  }
}
