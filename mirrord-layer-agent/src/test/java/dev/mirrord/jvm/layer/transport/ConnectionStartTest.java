package dev.mirrord.jvm.layer.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectionStartTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final String PEER = "layer pid=1 test";

  @TempDir Path dir;
  private FakeAgent agent;
  private LayerLog log;
  private ConnectionStart start;
  private final List<ProxyConnection> connected = new CopyOnWriteArrayList<>();
  private final List<HandshakeException> failed = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    agent = FakeAgent.start();
    log = LayerLog.open(dir.resolve("layer.log"), LayerLog.Level.DEBUG);
  }

  @AfterEach
  void tearDown() {
    if (start != null) {
      start.closeAndAwait(1000);
    }
    agent.close();
  }

  private ConnectionStart open(String token, Duration timeout) throws HandshakeException {
    start = ConnectionStart.open("127.0.0.1", agent.port(), new Session.Hello(ProtocolVersion.CURRENT, token, PEER),
        timeout, log);
    return start;
  }

  @Test
  void theStartConnectionAsksTargetInfoAndTheMainConnectionComesUpOnItsOwnThread() throws Exception {
    agent.delayMainHelloOk(300);
    open(FakeAgent.TOKEN, TIMEOUT);

    assertThat(start.target().pid()).isEqualTo(FakeAgent.TARGET_PID);
    assertThat(agent.peersOf(Target.TargetInfoRequest.class)).containsExactly(PEER + " (connects)");
    assertThat(agent.peersOf(Session.Hello.class)).as("no main connection before connect()")
        .containsExactly(PEER + " (connects)");

    long t0 = System.nanoTime();
    start.connect(connected::add, failed::add);
    assertThat(start.now()).as("not up yet: its HelloOk comes 300 ms late").isNull();
    ProxyConnection main = start.await();

    assertThat(System.nanoTime() - t0).as("await waited for the late HelloOk").isGreaterThan(250_000_000L);
    assertThat(main.isOpen()).isTrue();
    assertThat(connected).as("wired before anyone could use it").containsExactly(main);
    assertThat(start.now()).isSameAs(main);
    assertThat(failed).isEmpty();
    assertThat(main.connectPool().idleConnections()).as("the start connection serves the app's connects")
        .isEqualTo(1);
    assertThat(agent.peersOf(Session.Hello.class)).containsExactly(PEER + " (connects)", PEER);
  }

  /**
   * An app's bind before the main connection is up subscribes on the start connection and does not wait for the main
   * one; once that is up, a subscription goes on it, and the start connection serves the app's connects.
   */
  @Test
  void aPortIsSubscribedOnTheStartConnectionWhileTheMainOneComesUp() throws Exception {
    agent.delayMainHelloOk(1_000);
    open(FakeAgent.TOKEN, TIMEOUT);
    start.connect(connected::add, failed::add);
    ProxyPortSubscriber subscriber = new ProxyPortSubscriber(start, start, log);

    long t0 = System.nanoTime();
    assertThat(subscriber.subscribe(8080, IncomingMode.MIRROR)).as("subscribed").isNull();

    assertThat(System.nanoTime() - t0).as("not after the main connection's late HelloOk").isLessThan(700_000_000L);
    assertThat(start.now()).isNull();
    assertThat(agent.peersOf(Tcp.PortSubscribe.class)).containsExactly(PEER + " (connects)");

    subscriber.unsubscribe(8080);
    await().atMost(Duration.ofSeconds(5)).until(() -> agent.peersOf(Tcp.PortUnsubscribe.class).size() == 1);
    assertThat(agent.peersOf(Tcp.PortUnsubscribe.class)).as("a close of the listener does not wait either")
        .containsExactly(PEER + " (connects)");
    assertThat(start.now()).isNull();

    ProxyConnection main = start.await();
    assertThat(subscriber.subscribe(8081, IncomingMode.STEAL)).isNull();
    assertThat(agent.peersOf(Tcp.PortSubscribe.class)).containsExactly(PEER + " (connects)", PEER);
    assertThat(main.connectPool().idleConnections()).as("the start connection, handed to the pool after its use")
        .isEqualTo(1);
    assertThat(Files.readString(dir.resolve("layer.log")))
        .contains("subscribed target port 8080 (MIRROR) on the start connection")
        .contains("subscribed target port 8081 (STEAL)\n")
        .contains("unsubscribed target port 8080 on the start connection");
  }

  @Test
  void aMainConnectionThatCannotBeHadFailsTheWaitersAndCountsAsLost() throws Exception {
    agent.delayMainHelloOk(5_000);
    open(FakeAgent.TOKEN, Duration.ofMillis(400));

    start.connect(connected::add, failed::add);

    assertThatThrownBy(start::await).isInstanceOf(ConnectionStart.NotConnectedException.class)
        .hasMessageContaining("no answer to Hello from mirrord at 127.0.0.1:" + agent.port());
    await().atMost(Duration.ofSeconds(5)).until(() -> failed.size() == 1);
    assertThat(connected).isEmpty();
    assertThat(start.now()).isNull();
    assertThat(Files.readString(dir.resolve("layer.log"))).contains("no main connection to mirrord at");
  }

  @Test
  void aMainConnectionThatComesUpWhileTheJvmEndsIsClosedAtOnce() throws Exception {
    agent.delayMainHelloOk(300);
    open(FakeAgent.TOKEN, TIMEOUT);
    start.connect(connected::add, failed::add);

    assertThat(start.closeAndAwait(100)).as("nothing to wait for yet").isTrue();

    await().atMost(Duration.ofSeconds(5)).until(() -> connected.size() == 1 && !connected.get(0).isOpen());
    assertThat(start.now()).isNull();
    assertThatThrownBy(start::await).isInstanceOf(ConnectionStart.NotConnectedException.class);
    await().atMost(Duration.ofSeconds(5)).until(() -> agent.openConnections() == 0);
  }

  @Test
  void aRejectedLayerGetsTheMainConnectionsOwnError() {
    agent.rejectAll("bad session token");

    assertThatThrownBy(() -> open("wrong", TIMEOUT)).isInstanceOf(HandshakeException.class)
        .hasMessageStartingWith("mirrord rejected this layer: bad session token");
    assertThat(agent.peersOf(Session.Hello.class)).as("the start connection, then the main one's own try")
        .containsExactly(PEER + " (connects)", PEER);
  }
}
