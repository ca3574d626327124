package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.launch.FakePodAgent;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.channel.epoll.Epoll;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The real proxy over loopback TCP (layers) and a unix socket (the in-process fake agent). */
class SessionProxyTest {
  private static final String TOKEN = "t0k3n";

  @TempDir Path tmp;
  final StringWriter userErr = new StringWriter();
  final UserNotices notices = new UserNotices(new PrintWriter(userErr, true));
  FakePodAgent agent;
  SessionProxy proxy;

  @AfterEach
  void tearDown() {
    if (proxy != null) {
      proxy.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  private void start(ProtocolVersion agentVersion) throws Exception {
    start(agentVersion, Transport.preferred());
  }

  private void start(ProtocolVersion agentVersion, Transport transport) throws Exception {
    Path socket = tmp.resolve("agent.sock");
    agent = FakePodAgent.start(socket, TOKEN, 4242, agentVersion, FakePodAgent.TARGET_ENV);
    proxy = SessionProxy.start(TOKEN, notices, java.util.function.IntUnaryOperator.identity(), transport);
  }

  @Test
  void theProxyRunsOnTheProcesssTransportAndEpollLoadsFromTheFatJarsLibrary() throws Exception {
    assertThat(Epoll.isAvailable()).as("%s", Epoll.unavailabilityCause()).isTrue();
    proxy = SessionProxy.start(TOKEN, notices);
    assertThat(proxy.transport()).isEqualTo(Transport.preferred());
  }

  /** Unix socket to the agent and TCP to the layers, on either transport. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void cliRequestsAndTwoLayersShareTheOneAgentConnection(Transport transport) throws Exception {
    start(ProtocolVersion.CURRENT, transport);
    assertThat(proxy.transport()).isEqualTo(transport);
    Session.HelloOk ok = proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("agent.sock"))).get(10, TimeUnit.SECONDS);
    assertThat(ok.agentVersion()).isEqualTo("fake-agent");

    Target.EnvResponse env = proxy.request(new Target.EnvRequest(0), Target.EnvResponse.class).get(10, TimeUnit.SECONDS);
    assertThat(env.env().value()).isEqualTo(FakePodAgent.TARGET_ENV);

    try (TestLayer a = new TestLayer(proxy.port());
        TestLayer b = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer a"));
      b.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer b"));
      assertThat(a.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);
      assertThat(b.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);

      a.send(new Target.TargetInfoRequest(1));
      b.send(new Target.TargetInfoRequest(1));
      Target.TargetInfo ia = a.next();
      Target.TargetInfo ib = b.next();
      assertThat(ia.requestId()).isEqualTo(1);
      assertThat(ib.requestId()).isEqualTo(1);
      assertThat(ia.pid()).isEqualTo(4242);
      assertThat(ia.hostname()).isEqualTo(FakePodAgent.HOSTNAME);
    }
    // one agent connection carried everything: one Hello only
    assertThat(agent.received.stream().filter(m -> m instanceof Session.Hello).count()).isEqualTo(1);
    // each request forwarded under an id of its own; a layer asking after the first answer arrived is answered by the
    // CLI from it (RequestRouter keeps the target's TargetInfo), so the agent sees one or two of them
    assertThat(agent.received.stream().filter(m -> m instanceof Target.TargetInfoRequest).map(m -> ((Target.TargetInfoRequest) m).requestId()))
        .doesNotHaveDuplicates()
        .hasSizeBetween(1, 2);
  }

  /** The command started while the agent starts: a layer's HelloOk waits for the agent's handshake. */
  @Test
  void aHeldLayerGetsItsHelloOkOnlyOnceTheAgentHandshakeHasEnded() throws Exception {
    start(new ProtocolVersion(ProtocolVersion.CURRENT.major(), 1));
    proxy.holdLayersUntilAgent();
    try (TestLayer a = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer a"));
      assertThat(a.<AgentMessage>poll(Duration.ofMillis(500))).as("no answer before the agent is there").isNull();

      proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("agent.sock"))).get(10, TimeUnit.SECONDS);
      Session.HelloOk ok = a.next();
      assertThat(ok.negotiated()).as("the agent's version, known only now").isEqualTo(new ProtocolVersion(ProtocolVersion.CURRENT.major(), 1));
      a.send(new Target.TargetInfoRequest(1));
      assertThat(a.<Target.TargetInfo>next().pid()).isEqualTo(4242);
    }
    try (TestLayer late = new TestLayer(proxy.port())) {
      late.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer b"));
      assertThat(late.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);
    }
  }

  @Test
  void holdingLayersAfterTheAgentIsUpHoldsNone() throws Exception {
    start(ProtocolVersion.CURRENT);
    proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("agent.sock"))).get(10, TimeUnit.SECONDS);
    proxy.holdLayersUntilAgent();
    try (TestLayer a = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer a"));
      assertThat(a.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);
    }
  }

  @Test
  void aHeldLayerIsRejectedWithTheReasonWhenTheAgentDoesNotStart() throws Exception {
    proxy = SessionProxy.start(TOKEN, notices);
    proxy.holdLayersUntilAgent();
    try (TestLayer a = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer a"));
      assertThat(a.<AgentMessage>poll(Duration.ofMillis(300))).isNull();
      proxy.agentFailed(new MirrordException(ExitCode.AGENT_FAILED, "the mirrord agent exited with code 3 before it was ready"));
      Session.HelloRejected rejected = a.next();
      assertThat(rejected.reason())
          .isEqualTo("the mirrord agent did not start: the mirrord agent exited with code 3 before it was ready");
      await().atMost(Duration.ofSeconds(5)).until(() -> !a.isOpen());
    }
  }

  @Test
  void layerWithWrongTokenIsRejected() throws Exception {
    start(ProtocolVersion.CURRENT);
    try (TestLayer a = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, "nope", "layer a"));
      Session.HelloRejected rejected = a.next();
      assertThat(rejected.reason()).contains("wrong session token");
      await().atMost(Duration.ofSeconds(5)).until(() -> !a.isOpen());
    }
  }

  @Test
  void agentSpeakingAnotherMajorVersionFailsTheHandshakeNamingBothVersions() throws Exception {
    start(new ProtocolVersion(9, 1));
    assertThatThrownBy(() -> proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("agent.sock"))).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.PROTOCOL))
        .hasMessageContaining("9.1")
        .hasMessageContaining(ProtocolVersion.CURRENT.toString());
  }

  @Test
  void lostAgentConnectionWarnsOnceAndLayersStayConnected() throws Exception {
    start(ProtocolVersion.CURRENT);
    proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("agent.sock"))).get(10, TimeUnit.SECONDS);
    try (TestLayer a = new TestLayer(proxy.port())) {
      a.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "layer a"));
      assertThat(a.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);

      agent.dropClients();

      await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.agentConnected());
      await().atMost(Duration.ofSeconds(5)).until(() -> userErr.toString().contains("lost the connection"));
      assertThat(userErr.toString().lines()).containsExactly("mirrord: warning: " + AgentConnectionHandler.LOST_WARNING);
      a.send(new Target.EnvRequest(3));
      Target.EnvResponse r = a.next();
      assertThat(r.env().isOk()).isFalse();
      assertThat(a.isOpen()).isTrue();
    }
  }

  @Test
  void connectingToNothingIsAgentFailed() throws Exception {
    proxy = SessionProxy.start(TOKEN, notices);
    assertThatThrownBy(() -> proxy.connectAgent(UnixDomainSocketAddress.of(tmp.resolve("none.sock"))).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.AGENT_FAILED));
  }
}
