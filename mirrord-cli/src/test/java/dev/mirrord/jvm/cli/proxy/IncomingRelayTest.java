package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.launch.FakePodAgent;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.Transport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CLI's relays to the app, against a real loopback listener: they come from the session's own
 * loopback address (or {@code [::1]} and a port of the session's range for an app on {@code ::1}
 * only), and the layer hears of the source port before the app can accept the connection.
 */
class IncomingRelayTest {
  private static final String TOKEN = "t0k3n";

  @TempDir Path tmp;
  final StringWriter userErr = new StringWriter();
  final UserNotices notices = new UserNotices(new PrintWriter(userErr, true));
  FakePodAgent agent;
  SessionProxy proxy;
  ServerSocket app;

  @AfterEach
  void tearDown() throws IOException {
    if (app != null) {
      app.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  /** A session proxy connected to a fake agent. */
  private void startProxy(Transport transport, RelayAddresses relays) throws Exception {
    Path socket = tmp.resolve("agent.sock");
    agent = FakePodAgent.start(socket, TOKEN, 4242, ProtocolVersion.CURRENT, FakePodAgent.TARGET_ENV);
    proxy = SessionProxy.start(TOKEN, notices, IntUnaryOperator.identity(), transport, relays);
    proxy.connectAgent(UnixDomainSocketAddress.of(socket)).get(10, TimeUnit.SECONDS);
  }

  private TestLayer start(Transport transport, RelayAddresses relays, int port) throws Exception {
    startProxy(transport, relays);
    TestLayer layer = greeted("layer a");
    layer.send(new Tcp.PortSubscribe(port, IncomingMode.MIRROR));
    assertThat(layer.<Tcp.PortSubscribeResult>next().result().isOk()).isTrue();
    return layer;
  }

  private static ServerSocket listen(String host) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(host, 0));
    s.setSoTimeout(10_000);
    return s;
  }

  private void newConnection(long id) {
    agent.send(new Tcp.NewConnection(id, IncomingMode.MIRROR, app.getLocalPort(), "198.18.0.100",
        50000 + (int) id, "198.18.0.10", app.getLocalPort()));
  }

  private TestLayer greeted(String peer) throws Exception {
    TestLayer layer = new TestLayer(proxy.port());
    layer.send(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, peer));
    assertThat(layer.<AgentMessage>next()).isInstanceOf(Session.HelloOk.class);
    return layer;
  }

  private long unsubscribesOf(int port) {
    return agent.received.stream().filter(m -> m.equals(new Tcp.PortUnsubscribe(port))).count();
  }

  /**
   * A layer subscribes its first port on its start connection ("… (connects)") while its main connection comes up: a
   * connection that arrives meanwhile is dialed once the main connection is up, which hears of its client (the start
   * connection is not read then); the subscription passes to the main connection, so the start connection's close
   * releases nothing, the main connection's unsubscribe is taken, and another JVM cannot take the port.
   */
  @Test
  void aSubscriptionOfTheStartConnectionPassesToItsJvmsMainConnection() throws Exception {
    startProxy(Transport.NIO, RelayAddresses.pick(new Random(7), Path.of("/proc")));
    app = listen("127.0.0.1");
    int port = app.getLocalPort();
    try (TestLayer start = greeted("layer pid=4711 app.Main (connects)")) {
      start.send(new Tcp.PortSubscribe(port, IncomingMode.MIRROR));
      assertThat(start.<Tcp.PortSubscribeResult>next().result().isOk()).isTrue();

      newConnection(1);
      app.setSoTimeout(300);
      assertThatThrownBy(app::accept).as("no dial before the JVM's main connection is up")
          .isInstanceOf(java.net.SocketTimeoutException.class);
      app.setSoTimeout(10_000);
      try (TestLayer other = greeted("layer pid=4712 other.Main")) {
        other.send(new Tcp.PortSubscribe(port, IncomingMode.MIRROR));
        assertThat(other.<Tcp.PortSubscribeResult>next().result().isOk()).as("another JVM's").isFalse();
      }

      try (TestLayer main = greeted("layer pid=4711 app.Main")) {
        try (Socket accepted = app.accept()) {
          assertThat(main.<Tcp.IncomingPeer>next())
              .isEqualTo(new Tcp.IncomingPeer(accepted.getPort(), "198.18.0.100", 50001));
        }
        assertThat(start.<AgentMessage>poll(Duration.ofMillis(200))).as("nothing on the start connection").isNull();

        start.close();
        newConnection(2);
        try (Socket accepted = app.accept()) {
          assertThat(main.<Tcp.IncomingPeer>next())
              .isEqualTo(new Tcp.IncomingPeer(accepted.getPort(), "198.18.0.100", 50002));
        }
        assertThat(unsubscribesOf(port)).as("the start connection's close released nothing").isZero();

        main.send(new Tcp.PortUnsubscribe(port));
        await().atMost(Duration.ofSeconds(10)).until(() -> unsubscribesOf(port) == 1);
      }
    }
  }

  /** A JVM whose main connection closes releases the ports it took over from the start connection. */
  @Test
  void theMainConnectionsCloseReleasesWhatItTookOver() throws Exception {
    startProxy(Transport.NIO, RelayAddresses.pick(new Random(7), Path.of("/proc")));
    try (TestLayer start = greeted("layer pid=4711 app.Main (connects)")) {
      start.send(new Tcp.PortSubscribe(8080, IncomingMode.MIRROR));
      assertThat(start.<Tcp.PortSubscribeResult>next().result().isOk()).isTrue();
      TestLayer main = greeted("layer pid=4711 app.Main");
      main.close();
      await().atMost(Duration.ofSeconds(10)).until(() -> unsubscribesOf(8080) == 1);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void relaysComeFromTheSessionsOwnAddressAndTheLayerKnowsTheirPortFirst(Transport transport) throws Exception {
    RelayAddresses relays = RelayAddresses.pick(new Random(7), Path.of("/proc"));
    assertThat(relays.v4()).isInstanceOf(Inet4Address.class);
    assertThat(relays.v4().getAddress()[0]).isEqualTo((byte) 127);
    assertThat(relays.v4()).as("an address of its own").isNotEqualTo(InetAddress.getByName("127.0.0.1"));
    app = listen("127.0.0.1");
    try (TestLayer layer = start(transport, relays, app.getLocalPort())) {
      for (long id = 1; id <= 3; id++) {
        newConnection(id);
        try (Socket accepted = app.accept()) {
          Tcp.IncomingPeer told = layer.next();
          assertThat(accepted.getInetAddress()).isEqualTo(relays.v4());
          assertThat(told).isEqualTo(new Tcp.IncomingPeer(accepted.getPort(), "198.18.0.100", (int) (50000 + id)));
        }
      }
    }
  }

  @Test
  void anAppOnIpv6LoopbackOnlyGetsItsRelaysFromTheSessionsIpv6Ports() throws Exception {
    RelayAddresses relays = new RelayAddresses(InetAddress.getByName("127.83.4.19"), 24000, 24015);
    app = listen("::1");
    try (TestLayer layer = start(Transport.preferred(), relays, app.getLocalPort())) {
      for (long id = 1; id <= 12; id++) {
        newConnection(id);
        try (Socket accepted = app.accept()) {
          assertThat(accepted.getInetAddress()).isEqualTo(InetAddress.getByName("::1"));
          assertThat(accepted.getPort()).isBetween(24000, 24015);
          Tcp.IncomingPeer told = layer.next();
          int refusedFirst = 0;
          while (told.localPort() != accepted.getPort()) {
            // a relay that tried 127.83.4.19 first and was refused: that mapping is forgotten (the first relay;
            // also the next one when it started before the first found the app on [::1])
            assertThat(told.localPort()).isNotIn(java.util.stream.IntStream.rangeClosed(24000, 24015).boxed().toList());
            assertThat(layer.<Tcp.IncomingPeer>next()).isEqualTo(Tcp.IncomingPeer.forget(told.localPort()));
            told = layer.next();
            refusedFirst++;
          }
          if (id == 1) {
            assertThat(refusedFirst).as("the first relay tried 127.0.0.1 first").isEqualTo(1);
          }
          assertThat(told).isEqualTo(new Tcp.IncomingPeer(accepted.getPort(), "198.18.0.100", (int) (50000 + id)));
        }
      }
    }
  }

  @Test
  void withEndAppOnAgentLossEveryLayerIsToldWhyAndClosed() throws Exception {
    app = listen("127.0.0.1");
    try (TestLayer layer = start(Transport.preferred(), RelayAddresses.pick(), app.getLocalPort())) {
      proxy.endAppOnAgentLoss(true);
      agent.dropClients();

      Session.AgentLog why = layer.next();
      assertThat(why.level()).isEqualTo(Session.AgentLog.Level.ERROR);
      assertThat(why.message()).isEqualTo("the mirrord CLI lost its connection to the mirrord agent");
      await().atMost(Duration.ofSeconds(5)).until(() -> !layer.isOpen());
      assertThat(userErr.toString().lines()).containsExactly("mirrord: warning: " + SessionProxy.AGENT_LOST_ENDING);
    }
  }

  /** Frames as an HTTP/2 peer writes them (Netty's frame writer, its own HPACK state). */
  private static final class H2Bytes implements AutoCloseable {
    final io.netty.channel.embedded.EmbeddedChannel ch =
        new io.netty.channel.embedded.EmbeddedChannel(new io.netty.channel.ChannelInboundHandlerAdapter());
    final io.netty.channel.ChannelHandlerContext ctx = ch.pipeline().firstContext();
    final io.netty.handler.codec.http2.DefaultHttp2FrameWriter writer =
        new io.netty.handler.codec.http2.DefaultHttp2FrameWriter();

    H2Bytes preface() {
      ctx.write(io.netty.handler.codec.http2.Http2CodecUtil.connectionPrefaceBuf());
      return settings();
    }

    H2Bytes settings() {
      writer.writeSettings(ctx, new io.netty.handler.codec.http2.Http2Settings(), ch.newPromise());
      return this;
    }

    H2Bytes headers(int stream, boolean endStream, String... nameValues) {
      io.netty.handler.codec.http2.Http2Headers h = new io.netty.handler.codec.http2.DefaultHttp2Headers();
      for (int i = 0; i < nameValues.length; i += 2) {
        h.add(nameValues[i], nameValues[i + 1]);
      }
      writer.writeHeaders(ctx, stream, h, 0, endStream, ch.newPromise());
      return this;
    }

    H2Bytes data(int stream, String text, boolean endStream) {
      writer.writeData(ctx, stream, io.netty.buffer.Unpooled.copiedBuffer(text, java.nio.charset.StandardCharsets.UTF_8),
          0, endStream, ch.newPromise());
      return this;
    }

    byte[] take() {
      ch.flushOutbound();
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      for (Object o; (o = ch.readOutbound()) != null; ) {
        io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) o;
        out.writeBytes(io.netty.buffer.ByteBufUtil.getBytes(b));
        b.release();
      }
      return out.toByteArray();
    }

    @Override
    public void close() {
      writer.close();
      ch.finishAndReleaseAll();
    }
  }

  /** Reads what is there within {@code millis}: the bytes, and whether the end of input came. */
  private static boolean readUntilEnd(java.io.InputStream in, Socket s, int millis) throws IOException {
    s.setSoTimeout(millis);
    byte[] buf = new byte[8192];
    try {
      while (true) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      return false;
    }
  }

  @Test
  void aMirroredH2cCopyIsHalfClosedOnlyOnceTheAppAnsweredEveryStream() throws Exception {
    app = listen("127.0.0.1");
    try (TestLayer layer = start(Transport.preferred(), RelayAddresses.pick(), app.getLocalPort());
        H2Bytes client = new H2Bytes();
        H2Bytes server = new H2Bytes()) {
      newConnection(1);
      try (Socket accepted = app.accept()) {
        java.io.InputStream in = accepted.getInputStream();
        // two requests given to the app, then the real client's connection ends (it had its answers from the pod)
        agent.send(new Tcp.Data(1, dev.mirrord.jvm.protocol.Payload.wrap(client.preface()
            .headers(1, false, ":method", "POST", ":path", "/a", ":scheme", "http", ":authority", "pod")
            .data(1, "first", true)
            .headers(3, true, ":method", "GET", ":path", "/b", ":scheme", "http", ":authority", "pod")
            .take())));
        agent.send(new Tcp.Close(1, false));
        assertThat(readUntilEnd(in, accepted, 700)).as("no end of input while streams 1 and 3 are open").isFalse();

        java.io.OutputStream out = accepted.getOutputStream();
        out.write(server.settings().headers(1, false, ":status", "200").data(1, "one", true).take());
        out.flush();
        assertThat(readUntilEnd(in, accepted, 700)).as("stream 3 is still open").isFalse();

        out.write(server.headers(3, true, ":status", "204").take());
        out.flush();
        assertThat(readUntilEnd(in, accepted, 5000)).as("the end of input once the app finished both").isTrue();
      }
    }
  }

  @Test
  void aMirroredHttp1CopyIsHalfClosedAtOnce() throws Exception {
    app = listen("127.0.0.1");
    try (TestLayer layer = start(Transport.preferred(), RelayAddresses.pick(), app.getLocalPort())) {
      newConnection(1);
      try (Socket accepted = app.accept()) {
        agent.send(new Tcp.Data(1, dev.mirrord.jvm.protocol.Payload.wrap(
            "GET / HTTP/1.1\r\nHost: pod\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
        agent.send(new Tcp.Close(1, false));
        assertThat(readUntilEnd(accepted.getInputStream(), accepted, 5000)).isTrue();
      }
    }
  }
}
