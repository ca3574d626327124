package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.session.SessionContext;
import dev.mirrord.jvm.podagent.session.SessionListener;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The outgoing family against a real agent server and real loopback peers. */
@Timeout(30)
class OutgoingAgentTest {
  private static final String TOKEN = "outgoing-test-token";

  private final ExecutorService blocking = Executors.newFixedThreadPool(2);
  private AgentServer server;
  private TestClient client;

  @BeforeEach
  void start() throws Exception {
    SessionContext ctx =
        new SessionContext(TOKEN, "t", TargetProcess.of((int) ProcessHandle.current().pid()), blocking, SessionListener.NONE);
    server = AgentServer.start(new ListenAddress.Tcp("127.0.0.1", 0), ctx);
    client = TestClient.connect(server.boundAddress().socketAddress());
    client.handshake(TOKEN);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
    blocking.shutdownNow();
  }

  @Test
  void tcpBytesFlowBothWaysAndCloseTravels() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      client.send(new Outgoing.ConnectRequest(1, Outgoing.Protocol.TCP, "127.0.0.1", echo.getLocalPort(), 2000));
      Outgoing.ConnectResponse r = client.receive(Outgoing.ConnectResponse.class);
      assertThat(r.requestId()).isEqualTo(1);
      assertThat(r.result().isOk()).as("%s", r.result()).isTrue();
      long id = r.result().value().connectionId();
      assertThat(Outgoing.isOutgoing(id)).isTrue();
      try (Socket s = echo.accept()) {
        assertThat(s.getPort()).isEqualTo(r.result().value().localPort());
        client.send(new Tcp.Data(id, Payload.wrap("ping".getBytes(StandardCharsets.US_ASCII))));
        InputStream in = s.getInputStream();
        assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
        OutputStream out = s.getOutputStream();
        out.write("pong".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Tcp.Data back = client.receive(Tcp.Data.class);
        assertThat(back.connectionId()).isEqualTo(id);
        assertThat(new String(back.bytes().unsafeArray(), StandardCharsets.US_ASCII)).isEqualTo("pong");
        s.shutdownOutput();
        assertThat(client.receive(Tcp.Shutdown.class).connectionId()).isEqualTo(id);
        client.send(new Tcp.Close(id, false));
        assertThat(in.read()).as("remote sees EOF after the client's Close").isEqualTo(-1);
      }
    }
  }

  @Test
  void remoteCloseReachesTheClient() throws Exception {
    try (ServerSocket srv = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      client.send(new Outgoing.ConnectRequest(2, Outgoing.Protocol.TCP, "127.0.0.1", srv.getLocalPort(), 0));
      long id = client.receive(Outgoing.ConnectResponse.class).result().value().connectionId();
      srv.accept().close();
      // FIN first (half-close allowed), then the close once the client closes its side.
      Object m = client.receiveAny();
      assertThat(m).isInstanceOfAny(Tcp.Shutdown.class, Tcp.Close.class);
      client.send(new Tcp.Close(id, false));
    }
  }

  @Test
  void refusedConnectIsAnsweredWithEconnrefused() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    client.send(new Outgoing.ConnectRequest(3, Outgoing.Protocol.TCP, "127.0.0.1", closedPort, 2000));
    RemoteResult<Outgoing.Connected> r = client.receive(Outgoing.ConnectResponse.class).result();
    assertThat(r.isOk()).isFalse();
    ResponseError e = ((RemoteResult.Err<Outgoing.Connected>) r).error();
    assertThat(e).isInstanceOf(ResponseError.RemoteIo.class);
    assertThat(((ResponseError.RemoteIo) e).errno()).isEqualTo(Outgoing.ECONNREFUSED);
    assertThat(e.describe()).contains("127.0.0.1:" + closedPort);
  }

  @Test
  void aNameIsNotAnAddress() throws Exception {
    client.send(new Outgoing.ConnectRequest(4, Outgoing.Protocol.TCP, "postgres", 5432, 0));
    RemoteResult<Outgoing.Connected> r = client.receive(Outgoing.ConnectResponse.class).result();
    assertThat(r.isOk()).isFalse();
  }

  @Test
  void udpDatagramsKeepTheirBoundaries() throws Exception {
    try (DatagramSocket echo = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      echo.setSoTimeout(5000);
      client.send(new Outgoing.ConnectRequest(5, Outgoing.Protocol.UDP, "127.0.0.1", echo.getLocalPort(), 0));
      long id = client.receive(Outgoing.ConnectResponse.class).result().value().connectionId();
      client.send(new Tcp.Data(id, Payload.wrap(new byte[] {1, 2, 3})));
      client.send(new Tcp.Data(id, Payload.wrap(new byte[] {4, 5})));
      for (int expected : new int[] {3, 2}) {
        DatagramPacket p = new DatagramPacket(new byte[100], 100);
        echo.receive(p);
        assertThat(p.getLength()).isEqualTo(expected);
        echo.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
        Tcp.Data d = client.receive(Tcp.Data.class);
        assertThat(d.connectionId()).isEqualTo(id);
        assertThat(d.bytes().size()).isEqualTo(expected);
      }
      client.send(new Tcp.Close(id, false));
    }
  }
}
