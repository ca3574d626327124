package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The proxy's handlers on EmbeddedChannels: message level, no codec, no sockets. */
class SessionProxyHandlersTest {
  private static final String TOKEN = "s3ss10n-t0k3n";

  final RequestRouter router = new RequestRouter();
  final StringWriter userErr = new StringWriter();
  final UserNotices notices = new UserNotices(new PrintWriter(userErr, true));
  final AtomicBoolean closing = new AtomicBoolean();
  AgentConnectionHandler agentHandler;
  EmbeddedChannel agent;
  ListAppender<ILoggingEvent> layerLog;

  @BeforeEach
  void connectAgent() {
    agentHandler = new AgentConnectionHandler(TOKEN, router, notices, closing::get);
    agent = new EmbeddedChannel(agentHandler);
    Session.Hello hello = agent.readOutbound();
    assertThat(hello.token()).isEqualTo(TOKEN);
    assertThat(hello.peer()).startsWith("cli ");
    assertThat(hello.version()).isEqualTo(ProtocolVersion.CURRENT);
    agent.writeInbound(new Session.HelloOk(ProtocolVersion.CURRENT, "fake-agent"));
    assertThat(agentHandler.handshake()).isCompleted();

    Logger logger = (Logger) LoggerFactory.getLogger(LayerConnectionHandler.class);
    layerLog = new ListAppender<>();
    layerLog.start();
    logger.addAppender(layerLog);
    logger.setLevel(Level.INFO);
  }

  @AfterEach
  void detachLog() {
    Logger logger = (Logger) LoggerFactory.getLogger(LayerConnectionHandler.class);
    logger.detachAppender(layerLog);
    logger.setLevel(null);
  }

  EmbeddedChannel layer(String name) {
    EmbeddedChannel ch = new EmbeddedChannel(new LayerConnectionHandler(TOKEN, router, () -> ProtocolVersion.CURRENT));
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, name));
    assertThat(ch.<Object>readOutbound()).isInstanceOf(Session.HelloOk.class);
    return ch;
  }

  @Test
  void twoLayersUsingTheSameRequestIdEachGetTheirOwnAnswer() {
    EmbeddedChannel a = layer("layer pid=1 a");
    EmbeddedChannel b = layer("layer pid=2 b");

    a.writeInbound(new Target.TargetInfoRequest(1));
    b.writeInbound(new Target.TargetInfoRequest(1));
    a.writeInbound(new Target.EnvRequest(2));
    b.writeInbound(new Target.EnvRequest(2));
    Target.TargetInfoRequest qa = agent.readOutbound();
    Target.TargetInfoRequest qb = agent.readOutbound();
    Target.EnvRequest ea = agent.readOutbound();
    Target.EnvRequest eb = agent.readOutbound();
    assertThat(List.of(qa.requestId(), qb.requestId(), ea.requestId(), eb.requestId())).doesNotHaveDuplicates();

    // answers arrive in another order than asked
    agent.writeInbound(new Target.EnvResponse(eb.requestId(), RemoteResult.ok(Map.of("WHO", "b"))));
    agent.writeInbound(new Target.TargetInfo(qb.requestId(), 22, 7, "host-b", List.of("10.0.0.2")));
    agent.writeInbound(new Target.TargetInfo(qa.requestId(), 11, 7, "host-a", List.of("10.0.0.1")));
    agent.writeInbound(new Target.EnvResponse(ea.requestId(), RemoteResult.ok(Map.of("WHO", "a"))));

    assertThat(a.<Object>readOutbound()).isEqualTo(new Target.TargetInfo(1, 11, 7, "host-a", List.of("10.0.0.1")));
    assertThat(a.<Object>readOutbound()).isEqualTo(new Target.EnvResponse(2, RemoteResult.ok(Map.of("WHO", "a"))));
    assertThat(b.<Object>readOutbound()).isEqualTo(new Target.EnvResponse(2, RemoteResult.ok(Map.of("WHO", "b"))));
    assertThat(b.<Object>readOutbound()).isEqualTo(new Target.TargetInfo(1, 22, 7, "host-b", List.of("10.0.0.2")));
    assertThat(router.pendingCount()).isZero();
  }

  @Test
  void onceTheAgentToldTheTargetLaterLayersAreAnsweredWithoutAskingItAgain() {
    EmbeddedChannel a = layer("layer pid=1 a");
    a.writeInbound(new Target.TargetInfoRequest(3));
    Target.TargetInfoRequest q = agent.readOutbound();
    agent.writeInbound(new Target.TargetInfo(q.requestId(), 11, 7, "pod", List.of("10.0.0.1")));
    assertThat(a.<Object>readOutbound()).isEqualTo(new Target.TargetInfo(3, 11, 7, "pod", List.of("10.0.0.1")));

    EmbeddedChannel b = layer("layer pid=2 b");
    b.writeInbound(new Target.TargetInfoRequest(9));

    assertThat(b.<Object>readOutbound()).isEqualTo(new Target.TargetInfo(9, 11, 7, "pod", List.of("10.0.0.1")));
    assertThat(agent.<Object>readOutbound()).as("nothing more asked of the agent").isNull();
    assertThat(router.pendingCount()).isZero();
  }

  @Test
  void dnsLookupsOfTwoLayersAreRemappedAndRoutedBack() {
    EmbeddedChannel a = layer("layer pid=1 a");
    EmbeddedChannel b = layer("layer pid=2 b");

    a.writeInbound(new Dns.LookupRequest(5, "svc", Dns.ANY));
    b.writeInbound(new Dns.LookupRequest(5, "nope", Dns.IPV4));
    Dns.LookupRequest qa = agent.readOutbound();
    Dns.LookupRequest qb = agent.readOutbound();
    assertThat(qa.requestId()).isNotEqualTo(qb.requestId());
    assertThat(qa.host()).isEqualTo("svc");
    assertThat(qb.family()).isEqualTo(Dns.IPV4);

    agent.writeInbound(new Dns.LookupResponse(qb.requestId(), RemoteResult.err(new ResponseError.NotFound("nope"))));
    agent.writeInbound(new Dns.LookupResponse(qa.requestId(), RemoteResult.ok(List.of("198.18.0.20"))));

    assertThat(a.<Object>readOutbound()).isEqualTo(new Dns.LookupResponse(5, RemoteResult.ok(List.of("198.18.0.20"))));
    assertThat(b.<Object>readOutbound())
        .isEqualTo(new Dns.LookupResponse(5, RemoteResult.err(new ResponseError.NotFound("nope"))));
    assertThat(router.pendingCount()).isZero();
  }

  @Test
  void aDnsLookupInFlightWhenTheAgentGoesIsAnsweredWithRemoteIo() {
    EmbeddedChannel a = layer("layer pid=1 a");
    a.writeInbound(new Dns.LookupRequest(3, "svc", Dns.ANY));
    assertThat(agent.<Object>readOutbound()).isInstanceOf(Dns.LookupRequest.class);

    agent.close();

    Dns.LookupResponse r = a.readOutbound();
    assertThat(r.requestId()).isEqualTo(3);
    assertThat(((RemoteResult.Err<?>) r.addresses()).error()).isInstanceOf(ResponseError.RemoteIo.class);
  }

  @Test
  void badTokenIsRejectedAndTheConnectionClosed() {
    EmbeddedChannel ch = new EmbeddedChannel(new LayerConnectionHandler(TOKEN, router, () -> ProtocolVersion.CURRENT));
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, "guess", "layer pid=9"));

    Session.HelloRejected rejected = ch.readOutbound();
    assertThat(rejected.reason()).contains("wrong session token");
    assertThat(rejected.agentVersion()).isEqualTo(ProtocolVersion.CURRENT);
    assertThat(ch.isOpen()).isFalse();
    assertThat(agent.<Object>readOutbound()).isNull();
  }

  @Test
  void incompatibleLayerVersionIsRejectedNamingBothVersionsAndLoggedOnce() {
    EmbeddedChannel ch = new EmbeddedChannel(new LayerConnectionHandler(TOKEN, router, () -> ProtocolVersion.CURRENT));
    ch.writeInbound(new Session.Hello(new ProtocolVersion(2, 3), TOKEN, "layer pid=9"));

    Session.HelloRejected rejected = ch.readOutbound();
    assertThat(rejected.reason()).contains("2.3").contains(ProtocolVersion.CURRENT.toString());
    assertThat(ch.isOpen()).isFalse();
    List<ILoggingEvent> warns = layerLog.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
    assertThat(warns).hasSize(1);
    assertThat(warns.get(0).getFormattedMessage()).contains("2.3").contains(ProtocolVersion.CURRENT.toString());
  }

  @Test
  void anythingBeforeHelloIsRejected() {
    EmbeddedChannel ch = new EmbeddedChannel(new LayerConnectionHandler(TOKEN, router, () -> ProtocolVersion.CURRENT));
    ch.writeInbound(new Target.TargetInfoRequest(1));
    Session.HelloRejected rejected = ch.readOutbound();
    assertThat(rejected.reason()).contains("expected Hello first");
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void silentLayerIsDroppedAfterTheHelloTimeout() {
    EmbeddedChannel ch = new EmbeddedChannel(new LayerConnectionHandler(TOKEN, router, () -> ProtocolVersion.CURRENT));
    ch.advanceTimeBy(LayerConnectionHandler.HELLO_TIMEOUT_SECONDS + 1, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void pingIsAnsweredByTheCliItself() {
    EmbeddedChannel a = layer("layer a");
    a.writeInbound(new Session.Ping(99));
    assertThat(a.<Object>readOutbound()).isEqualTo(new Session.Pong(99));
    assertThat(agent.<Object>readOutbound()).isNull();
  }

  @Test
  void incomingSubscriptionsAreAnsweredNotImplemented() {
    EmbeddedChannel a = layer("layer a");
    a.writeInbound(new Tcp.PortSubscribe(8080, IncomingMode.STEAL));
    Tcp.PortSubscribeResult result = a.readOutbound();
    assertThat(result.port()).isEqualTo(8080);
    assertThat(result.result()).isInstanceOf(RemoteResult.Err.class);
    assertThat(((RemoteResult.Err<Integer>) result.result()).error()).isInstanceOf(ResponseError.NotImplemented.class);
  }

  @Test
  void agentLossWarnsOnceAndAnswersPendingAndLaterRequestsWithErrors() {
    EmbeddedChannel a = layer("layer a");
    a.writeInbound(new Target.EnvRequest(5));
    assertThat(agent.<Object>readOutbound()).isInstanceOf(Target.EnvRequest.class);

    agent.close();

    assertThat(userErr.toString())
        .isEqualTo("mirrord: warning: " + AgentConnectionHandler.LOST_WARNING + System.lineSeparator());
    AgentMessage pending = a.readOutbound();
    assertThat(pending).isInstanceOf(Target.EnvResponse.class);
    assertThat(((Target.EnvResponse) pending).requestId()).isEqualTo(5);
    assertThat(((Target.EnvResponse) pending).env().isOk()).isFalse();

    a.writeInbound(new Target.EnvRequest(6));
    Target.EnvResponse later = a.readOutbound();
    assertThat(later.requestId()).isEqualTo(6);
    assertThat(later.env().isOk()).isFalse();
    assertThat(a.isOpen()).isTrue(); // the app keeps running
  }

  @Test
  void noWarningWhenTheCliClosesTheAgentConnectionItself() {
    closing.set(true);
    agent.close();
    assertThat(userErr.toString()).isEmpty();
  }

  @Test
  void agentRejectingTheCliVersionIsAProtocolErrorNamingBothVersions() {
    var handler = new AgentConnectionHandler(TOKEN, new RequestRouter(), notices, () -> false);
    EmbeddedChannel ch = new EmbeddedChannel(handler);
    ch.readOutbound();
    ch.writeInbound(new Session.HelloRejected(new ProtocolVersion(3, 0), "incompatible protocol"));

    assertThat(handler.handshake()).isCompletedExceptionally();
    Throwable cause = handler.handshake().handle((ok, err) -> err).join();
    assertThat(cause).isInstanceOf(MirrordException.class);
    assertThat(((MirrordException) cause).exitCode()).isEqualTo(ExitCode.PROTOCOL);
    assertThat(cause.getMessage())
        .contains("agent speaks protocol 3.0")
        .contains("this CLI speaks " + ProtocolVersion.CURRENT);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void agentWarningsReachTheUser() {
    agent.writeInbound(new Session.AgentLog(Session.AgentLog.Level.WARN, "iptables is missing"));
    assertThat(userErr.toString()).contains("mirrord: warning: agent: iptables is missing");
  }
}
