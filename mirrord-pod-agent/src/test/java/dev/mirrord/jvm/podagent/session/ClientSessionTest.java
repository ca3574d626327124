package dev.mirrord.jvm.podagent.session;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

class ClientSessionTest {
  private static final String TOKEN = "s3cret-token";
  private static final int SELF_PID = (int) ProcessHandle.current().pid();

  private final List<String> events = new ArrayList<>();
  private final SessionListener recording =
      new SessionListener() {
        @Override
        public void onAuthenticated(ClientSession session) {
          events.add("authenticated");
        }

        @Override
        public void onClosed(ClientSession session) {
          events.add("closed" + (session.isAuthenticated() ? " (authenticated)" : ""));
        }
      };
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger sessionLogger = (Logger) LoggerFactory.getLogger(ClientSession.class);

  @BeforeEach
  void captureLogs() {
    logs.start();
    sessionLogger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    sessionLogger.detachAppender(logs);
  }

  private EmbeddedChannel channel(TargetProcess target) {
    // Direct executor: blocking work runs inline so answers are visible at once.
    return new EmbeddedChannel(
        new ClientSession(new SessionContext(TOKEN, "9.9.9", target, Runnable::run, recording)));
  }

  private EmbeddedChannel channel() {
    return channel(TargetProcess.of(SELF_PID));
  }

  private EmbeddedChannel established() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli test"));
    assertThat(ch.<Object>readOutbound()).isInstanceOf(Session.HelloOk.class);
    return ch;
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void goodHelloIsAnsweredWithHelloOkAndAuthenticates() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli 0.1.0"));
    assertThat(ch.<Object>readOutbound())
        .isEqualTo(new Session.HelloOk(ProtocolVersion.CURRENT, "9.9.9"));
    assertThat(ch.isOpen()).isTrue();
    assertThat(events).containsExactly("authenticated");
    assertThat(ch.finish()).isFalse();
    assertThat(events).containsExactly("authenticated", "closed (authenticated)");
  }

  @Test
  void newerMinorVersionNegotiatesDownToOurs() {
    EmbeddedChannel ch = channel();
    ProtocolVersion newer = new ProtocolVersion(ProtocolVersion.CURRENT.major(), 7);
    ch.writeInbound(new Session.Hello(newer, TOKEN, "cli"));
    assertThat(((Session.HelloOk) ch.readOutbound()).negotiated())
        .isEqualTo(ProtocolVersion.CURRENT);
  }

  @Test
  void badTokenIsRejectedAndClosed() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, "wrong", "cli"));
    assertThat(ch.<Object>readOutbound())
        .isEqualTo(new Session.HelloRejected(ProtocolVersion.CURRENT, "bad session token"));
    assertThat(ch.isOpen()).isFalse();
    assertThat(events).containsExactly("closed");
    assertThat(warnings()).singleElement().asString().contains("bad session token");
  }

  @ParameterizedTest(name = "client {0}.{1}")
  @CsvSource({"2, 0", "0, 9", "1000, 1"})
  void incompatibleVersionIsRejectedNamingBothVersions(int major, int minor) {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Hello(new ProtocolVersion(major, minor), TOKEN, "cli"));
    Session.HelloRejected rejected = ch.readOutbound();
    assertThat(rejected.agentVersion()).isEqualTo(ProtocolVersion.CURRENT);
    assertThat(rejected.reason())
        .isEqualTo(
            "protocol version mismatch: client "
                + major
                + "."
                + minor
                + ", agent "
                + ProtocolVersion.CURRENT
                + "; use the same mirrord version for CLI and agent");
    assertThat(ch.isOpen()).isFalse();
    assertThat(events).containsExactly("closed");
  }

  @Test
  void tokenIsCheckedBeforeVersion() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Hello(new ProtocolVersion(2, 0), "wrong", "cli"));
    assertThat(((Session.HelloRejected) ch.readOutbound()).reason()).isEqualTo("bad session token");
  }

  @Test
  void anythingBeforeHelloClosesWithOneLogLine() {
    EmbeddedChannel ch = channel();
    ch.writeInbound(new Session.Ping(1), new Target.EnvRequest(2));
    assertThat(ch.<Object>readOutbound()).isNull();
    assertThat(ch.isOpen()).isFalse();
    assertThat(warnings())
        .singleElement()
        .asString()
        .startsWith("closing connection #")
        .contains("sent Ping before Hello");
    assertThat(events).containsExactly("closed");
  }

  @Test
  void secondHelloCloses() {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "again"));
    assertThat(ch.isOpen()).isFalse();
    assertThat(warnings()).singleElement().asString().contains("second Hello");
  }

  @Test
  void pingIsAnsweredWithPongCarryingTheNonce() {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Session.Ping(42), new Session.Ping(-1));
    assertThat(ch.<Object>readOutbound()).isEqualTo(new Session.Pong(42));
    assertThat(ch.<Object>readOutbound()).isEqualTo(new Session.Pong(-1));
  }

  @Test
  void targetInfoDescribesTheTargetAndTheAgentsNetns() throws Exception {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Target.TargetInfoRequest(77));
    Target.TargetInfo info = ch.readOutbound();
    long netns =
        ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
    assertThat(info.requestId()).isEqualTo(77);
    assertThat(info.pid()).isEqualTo(SELF_PID);
    assertThat(info.netnsInode()).isEqualTo(netns);
    assertThat(info.hostname()).isNotBlank();
    assertThat(info.addresses()).doesNotContain("127.0.0.1", "::1");
  }

  @Test
  void envResponseCarriesTheTargetsEnvironment() {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Target.EnvRequest(3));
    Target.EnvResponse env = ch.readOutbound();
    assertThat(env.requestId()).isEqualTo(3);
    assertThat(env.env().value()).containsEntry("PATH", System.getenv("PATH"));
  }

  @Test
  void envOfAVanishedTargetIsNotFound(@TempDir Path proc) {
    EmbeddedChannel ch = channel(TargetProcess.under(proc, 4242));
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli"));
    ch.readOutbound();
    ch.writeInbound(new Target.EnvRequest(9));
    Target.EnvResponse env = ch.readOutbound();
    assertThat(env.env()).isInstanceOf(RemoteResult.Err.class);
    assertThat(((RemoteResult.Err<Map<String, String>>) env.env()).error())
        .isInstanceOf(ResponseError.NotFound.class);
  }

  @Test
  void resolverFilesAreTheTargetsOwn(@TempDir Path proc) throws Exception {
    TargetProcess target = TargetProcess.under(proc, 4242);
    java.nio.file.Files.createDirectories(target.hosts().getParent());
    java.nio.file.Files.writeString(target.resolvConf(), "nameserver 198.18.0.53\n");
    EmbeddedChannel ch = channel(target);
    ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli"));
    ch.readOutbound();
    ch.writeInbound(new Target.ResolverFilesRequest(12));
    Target.ResolverFiles files = ch.readOutbound();
    assertThat(files.requestId()).isEqualTo(12);
    assertThat(files.resolvConf().value().toByteArray()).asString().isEqualTo("nameserver 198.18.0.53\n");
    assertThat(((RemoteResult.Err<?>) files.hosts()).error()).isInstanceOf(ResponseError.NotFound.class);
  }

  @Test
  void aLookupIsAnsweredFromTheTargetsHostsFileByTheSharedWorker(@TempDir Path proc) throws Exception {
    TargetProcess target = TargetProcess.under(proc, 4242);
    java.nio.file.Files.createDirectories(target.hosts().getParent());
    java.nio.file.Files.writeString(target.hosts(), "10.1.2.3 myhost\n");
    java.nio.file.Files.writeString(target.resolvConf(), "nameserver 127.0.0.1\n");
    try (dev.mirrord.jvm.podagent.dns.DnsWorker dns = new dev.mirrord.jvm.podagent.dns.DnsWorker(target)) {
      EmbeddedChannel ch =
          new EmbeddedChannel(
              new ClientSession(
                  new SessionContext(TOKEN, "9.9.9", target, Runnable::run, recording, null, dns)));
      ch.writeInbound(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli"));
      ch.readOutbound();
      ch.writeInbound(new Dns.LookupRequest(5, "myhost", Dns.IPV4));
      Object[] answer = new Object[1];
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(
              () -> {
                ch.runPendingTasks();
                answer[0] = ch.readOutbound();
                return answer[0] != null;
              });
      assertThat(answer[0]).isEqualTo(new Dns.LookupResponse(5, RemoteResult.ok(List.of("10.1.2.3"))));
    }
  }

  @Test
  void aLookupIsNotImplementedByAnAgentWithoutAResolver() {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Dns.LookupRequest(6, "svc", Dns.ANY));
    assertThat(ch.<Object>readOutbound())
        .isEqualTo(
            new Dns.LookupResponse(6, RemoteResult.err(new ResponseError.NotImplemented("remote DNS"))));
  }

  @Test
  void portSubscribeIsNotImplementedByAnAgentWithoutIncomingTasks() {
    EmbeddedChannel ch = established();
    ch.writeInbound(new Tcp.PortSubscribe(8080, IncomingMode.STEAL));
    assertThat(ch.<Object>readOutbound())
        .isEqualTo(
            new Tcp.PortSubscribeResult(
                8080,
                RemoteResult.err(
                    new ResponseError.NotImplemented("incoming traffic (mirror/steal)"))));
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void streamMessagesForUnknownConnectionsAreIgnoredAndTheSessionStays() {
    EmbeddedChannel ch = established();
    ch.writeInbound(
        new Tcp.Data(1, Payload.copyOf(new byte[] {1})),
        new Tcp.Close(1, false),
        new Tcp.PortUnsubscribe(80),
        new Tcp.Flow(1, true),
        new Tcp.Shutdown(1));
    assertThat(ch.<Object>readOutbound()).isNull();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void readerIdleCloses() {
    EmbeddedChannel ch = established();
    ch.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
    assertThat(ch.isOpen()).isFalse();
    assertThat(warnings()).singleElement().asString().contains("reader idle");
  }

  @Test
  void writerIdleIsHarmless() {
    EmbeddedChannel ch = established();
    ch.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_WRITER_IDLE_STATE_EVENT);
    assertThat(ch.isOpen()).isTrue();
  }

  // Through the real pipeline: bytes in, bytes out.

  private static EmbeddedChannel pipeline(ClientSession session) {
    return new EmbeddedChannel(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ProtocolPipeline.install(ch.pipeline(), Side.AGENT, session);
          }
        });
  }

  private static ByteBuf frame(Message m) {
    ByteBuf body = Unpooled.buffer();
    MessageCodec.encode(m, body);
    ByteBuf framed = Unpooled.buffer().writeInt(body.readableBytes()).writeBytes(body);
    body.release();
    return framed;
  }

  /** LengthFieldPrepender writes the length and the body as two buffers. */
  private static AgentMessage decodeOutbound(EmbeddedChannel ch) {
    ByteBuf length = ch.readOutbound();
    ByteBuf body = ch.readOutbound();
    try {
      assertThat(length.readInt()).isEqualTo(body.readableBytes());
      return (AgentMessage) MessageCodec.decode(body, Side.CLIENT);
    } finally {
      length.release();
      body.release();
    }
  }

  @Test
  void handshakeAndPingThroughTheRealPipeline() {
    EmbeddedChannel ch =
        pipeline(
            new ClientSession(
                new SessionContext(
                    TOKEN, "1", TargetProcess.of(SELF_PID), Runnable::run, recording)));
    ch.writeInbound(frame(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "cli")));
    assertThat(decodeOutbound(ch)).isInstanceOf(Session.HelloOk.class);
    ch.writeInbound(frame(new Session.Ping(5)));
    assertThat(decodeOutbound(ch)).isEqualTo(new Session.Pong(5));
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void garbageFrameClosesThatConnectionWithOneWarningNamingPeerAndReason() {
    EmbeddedChannel ch =
        pipeline(
            new ClientSession(
                new SessionContext(
                    TOKEN, "1", TargetProcess.of(SELF_PID), Runnable::run, recording)));
    ch.writeInbound(Unpooled.buffer().writeInt(2).writeShort(0x7abc));
    assertThat(ch.isOpen()).isFalse();
    ch.checkException();
    assertThat(warnings())
        .singleElement()
        .asString()
        .startsWith("closing connection #" + ch.id().asShortText())
        .contains("bad frame: unknown message tag 0x7abc");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void oversizeFrameHeaderClosesAtOnce() {
    EmbeddedChannel ch =
        pipeline(
            new ClientSession(
                new SessionContext(
                    TOKEN, "1", TargetProcess.of(SELF_PID), Runnable::run, recording)));
    ch.writeInbound(Unpooled.buffer().writeInt(0x7fffffff).writeShort(1));
    assertThat(ch.isOpen()).isFalse();
    ch.checkException();
    assertThat(warnings()).singleElement().asString().contains("bad frame").contains("exceeds");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
