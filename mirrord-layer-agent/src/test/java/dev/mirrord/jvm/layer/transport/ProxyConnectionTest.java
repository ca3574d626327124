package dev.mirrord.jvm.layer.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyConnectionTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;
  private FakeAgent agent;
  private LayerLog log;
  private ProxyConnection connection;

  @BeforeEach
  void start() throws IOException {
    agent = FakeAgent.start();
    log = LayerLog.open(dir.resolve("layer.log"), LayerLog.Level.DEBUG);
  }

  @AfterEach
  void stop() {
    if (connection != null) {
      connection.close();
    }
    agent.close();
  }

  private static Session.Hello hello(String token) {
    return new Session.Hello(ProtocolVersion.CURRENT, token, "layer pid=1 test");
  }

  private ProxyConnection open() throws HandshakeException {
    connection = ProxyConnection.open("127.0.0.1", agent.port(), hello(FakeAgent.TOKEN), TIMEOUT, log);
    return connection;
  }

  @Test
  void handshakesWithHelloAndLearnsTheNegotiatedVersion() throws Exception {
    open();

    assertThat(connection.isOpen()).isTrue();
    assertThat(connection.negotiated()).isEqualTo(ProtocolVersion.CURRENT);
    assertThat(connection.cliVersion()).isEqualTo(FakeAgent.CLI_VERSION);
    assertThat(agent.received()).containsExactly(hello(FakeAgent.TOKEN));
  }

  @Test
  void aRejectedHelloIsAHandshakeExceptionWithTheReason() {
    agent.rejectAll("bad session token");

    assertThatThrownBy(
            () -> ProxyConnection.open("127.0.0.1", agent.port(), hello("wrong"), TIMEOUT, log))
        .isInstanceOf(HandshakeException.class)
        .hasMessage(
            "mirrord rejected this layer: bad session token (CLI protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT + ", layer protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT + ")");
  }

  @Test
  void aClosedPortIsAHandshakeExceptionNamingTheAddress() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }

    assertThatThrownBy(
            () ->
                ProxyConnection.open(
                    "127.0.0.1", closedPort, hello(FakeAgent.TOKEN), TIMEOUT, log))
        .isInstanceOf(HandshakeException.class)
        .hasMessageStartingWith("cannot connect to mirrord at 127.0.0.1:" + closedPort + ": ")
        .hasMessageContaining("refused");
  }

  @Test
  void aSilentCliIsATimeoutWithinTheDeadline() {
    agent.ignoring(Session.Hello.class);
    long start = System.nanoTime();

    assertThatThrownBy(
            () ->
                ProxyConnection.open(
                    "127.0.0.1", agent.port(), hello(FakeAgent.TOKEN), Duration.ofMillis(700), log))
        .isInstanceOf(HandshakeException.class)
        .hasMessage("no answer to Hello from mirrord at 127.0.0.1:" + agent.port() + " in time");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void requestsAreAnsweredByRequestId() throws Exception {
    open();
    long a = connection.nextRequestId();
    long b = connection.nextRequestId();

    CompletableFuture<AgentMessage> first = connection.request(new Target.TargetInfoRequest(a));
    CompletableFuture<AgentMessage> second = connection.request(new Target.EnvRequest(b));

    assertThat(first.get(10, TimeUnit.SECONDS))
        .isEqualTo(
            new Target.TargetInfo(
                a,
                FakeAgent.TARGET_PID,
                FakeAgent.TARGET_NETNS,
                FakeAgent.TARGET_HOSTNAME,
                FakeAgent.TARGET_ADDRESSES));
    assertThat(second.get(10, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(
            Target.EnvResponse.class, r -> assertThat(r.requestId()).isEqualTo(b));
    assertThat(b).isEqualTo(a + 1);
  }

  /**
   * What the CLI sends right after HelloOk (a dial's IncomingPeer for a port the start connection subscribed) is kept
   * until the layer has wired the connection, and the first listener gets it, in order.
   */
  @Test
  void whatCameBeforeTheFirstListenerGoesToIt() throws Exception {
    open();
    agent.broadcast(new Tcp.IncomingPeer(40001, "198.18.0.100", 50001));
    agent.broadcast(new Tcp.IncomingPeer(40002, "198.18.0.100", 50002));
    connection.request(new Session.Ping(98)).get(10, TimeUnit.SECONDS); // both read by now
    List<AgentMessage> seen = new CopyOnWriteArrayList<>();

    connection.onMessage(seen::add);
    agent.broadcast(new Tcp.IncomingPeer(40003, "198.18.0.100", 50003));

    await().atMost(TIMEOUT).until(() -> seen.size() == 3);
    assertThat(seen).extracting(m -> ((Tcp.IncomingPeer) m).localPort()).containsExactly(40001, 40002, 40003);
  }

  @Test
  void unsolicitedMessagesGoToListeners() throws Exception {
    open();
    List<AgentMessage> seen = new CopyOnWriteArrayList<>();
    ProxyConnection.Subscription sub = connection.onMessage(seen::add);

    agent.broadcast(new Tcp.Close(12, true));
    agent.broadcast(new Session.AgentLog(Session.AgentLog.Level.WARN, "target restarted"));

    await().atMost(TIMEOUT).until(() -> seen.size() == 2);
    assertThat(seen)
        .containsExactly(
            new Tcp.Close(12, true),
            new Session.AgentLog(Session.AgentLog.Level.WARN, "target restarted"));
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(Files.readString(dir.resolve("layer.log")))
                    .contains("WARN ", "agent: target restarted"));

    sub.close();
    agent.broadcast(new Tcp.Close(13, false));
    connection.request(new Session.Ping(99)).get(10, TimeUnit.SECONDS);
    assertThat(seen).hasSize(2);
  }

  @Test
  void aLostConnectionFailsPendingRequestsAndCompletesCloseFuture() throws Exception {
    agent.ignoring(Target.EnvRequest.class);
    open();
    CompletableFuture<AgentMessage> pending = connection.request(new Target.EnvRequest(1));
    await().atMost(TIMEOUT).until(() -> !agent.received(Target.EnvRequest.class).isEmpty());

    agent.disconnectAll();

    assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(IOException.class);
    connection.closeFuture().get(10, TimeUnit.SECONDS);
    assertThat(connection.isOpen()).isFalse();
    assertThat(Files.readString(dir.resolve("layer.log"))).contains("lost");
    assertThat(connection.request(new Target.TargetInfoRequest(2)))
        .failsWithin(Duration.ofSeconds(1));
  }

  @Test
  void aCliThatClosesRightAfterItsHelloOkCountsAsLostEveryTime() throws Exception {
    // The HelloOk and the close arrive together: the event loop may see the close before the thread that waits
    // for the handshake stores the HelloOk (LayerAgentIT once saw the app run on after such a loss).
    agent.closeMainAfterHandshake();
    for (int i = 0; i < 40; i++) {
      ProxyConnection c = open();
      c.closeFuture().get(10, TimeUnit.SECONDS);
      assertThat(c.lost()).as("round %d", i).isTrue();
      c.close();
      assertThat(c.lost()).as("a close after the loss does not make it ours").isTrue();
    }
  }

  @Test
  void writerIdleSendsAPing() throws Exception {
    open();

    connection.channelForTest().pipeline().fireUserEventTriggered(IdleStateEvent.WRITER_IDLE_STATE_EVENT);

    await().atMost(TIMEOUT).until(() -> !agent.received(Session.Ping.class).isEmpty());
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> assertThat(Files.readString(dir.resolve("layer.log"))).contains("pong 1 after"));
  }

  @Test
  void eventLoopThreadsAreDaemonsNamedAfterTheLayerAndInsideTheGuard() throws Exception {
    open();

    Thread t =
        connection
            .channelForTest()
            .eventLoop()
            .submit(Thread::currentThread)
            .get(10, TimeUnit.SECONDS);
    boolean guarded =
        connection
            .channelForTest()
            .eventLoop()
            .submit(dev.mirrord.jvm.layer.bootstrap.BypassGuard::active)
            .get(10, TimeUnit.SECONDS);

    assertThat(t.isDaemon()).isTrue();
    assertThat(t.getName()).startsWith("mirrord-layer-");
    assertThat(guarded).isTrue();
  }

  @Test
  void closeIsQuietAndFinal() throws Exception {
    open();

    connection.close();

    connection.closeFuture().get(10, TimeUnit.SECONDS);
    assertThat(Files.readString(dir.resolve("layer.log"))).contains("closed").doesNotContain("lost");
    await().atMost(TIMEOUT).until(() -> agent.openConnections() == 0);
  }
}
