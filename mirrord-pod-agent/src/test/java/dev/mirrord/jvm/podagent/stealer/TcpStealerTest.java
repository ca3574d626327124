package dev.mirrord.jvm.podagent.stealer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.podagent.iptables.PortRedirector;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The stealer's threading contract, with a redirector that only records (no iptables): a stolen
 * port's connections live on the owning client's event loop, so every message to and from the
 * client is handled on that one thread, and a socket's bytes reach the client as its read buffer.
 */
class TcpStealerTest {
  private EventLoopGroup stealerLoops;
  private EventLoopGroup clientLoops;

  @AfterEach
  void stop() {
    for (EventLoopGroup group : new EventLoopGroup[] {stealerLoops, clientLoops}) {
      if (group != null) {
        group.shutdownGracefully(0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    }
  }

  /** On either transport: the stolen port's listener and its connections take the client's. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void stolenConnectionsRunOnTheClientsLoopAndRelayBothWays(Transport transport) throws Exception {
    AtomicInteger agentPort = new AtomicInteger();
    TcpStealer stealer = stealer(transport, agentPort);
    EventLoop loop = clientLoops.next();
    RecordingClient client = new RecordingClient(loop);
    try {
      assertThat(stealer.subscribe(8080, client).isOk()).isTrue();

      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
        s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        await().atMost(Duration.ofSeconds(10)).until(() -> client.received().length() >= 18);
        assertThat(client.received()).isEqualTo("GET / HTTP/1.1\r\n\r\n");
        assertThat(client.offLoop).isEmpty();
        assertThat(client.viaSendData.get()).isPositive();

        long id = client.connectionId();
        byte[] answer = "HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        loop.execute(() -> stealer.fromClient(client, new Tcp.Data(id, Payload.copyOf(answer))));
        loop.execute(() -> stealer.fromClient(client, new Tcp.Close(id, false)));
        assertThat(readAll(s.getInputStream())).isEqualTo(answer);
      }
    } finally {
      stealer.close();
    }
  }

  /**
   * The agent's listener is dual-stack: ip6tables redirects IPv6 clients to the same port, and the
   * client gets their IPv6 address (here loopback's, as a redirect from the pod itself would give).
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void ipv6ClientsAreAcceptedAndReportedWithTheirIpv6Address(Transport transport) throws Exception {
    AtomicInteger agentPort = new AtomicInteger();
    TcpStealer stealer = stealer(transport, agentPort);
    RecordingClient client = new RecordingClient(clientLoops.next());
    try {
      assertThat(stealer.subscribe(8080, client).isOk()).isTrue();
      try (Socket s = new Socket(InetAddress.getByName("::1"), agentPort.get())) {
        s.getOutputStream().write('x');
        await().atMost(Duration.ofSeconds(10)).until(() -> client.received().equals("x"));
        Tcp.NewConnection c =
            (Tcp.NewConnection) client.sent.stream().filter(m -> m instanceof Tcp.NewConnection).findFirst().orElseThrow();
        assertThat(c.sourceAddress()).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(c.sourcePort()).isEqualTo(s.getLocalPort());
        assertThat(c.destinationAddress()).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(c.destinationPort()).isEqualTo(8080);
      }
    } finally {
      stealer.close();
    }
  }

  @Test
  void literalsLeaveOutTheIpv6Scope() throws Exception {
    byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
    assertThat(TcpStealer.literal(Inet6Address.getByAddress(null, linkLocal, 2))).isEqualTo("fe80:0:0:0:0:0:0:1");
    assertThat(TcpStealer.literal(InetAddress.getByName("fd00:198:18::100"))).isEqualTo("fd00:198:18:0:0:0:0:100");
    assertThat(TcpStealer.literal(InetAddress.getByName("198.18.0.100"))).isEqualTo("198.18.0.100");
  }

  /** A stealer on fresh loops of {@code transport} whose redirector records the agent's port. */
  private TcpStealer stealer(Transport transport, AtomicInteger agentPort) {
    stealerLoops = transport.newGroup(1, new DefaultThreadFactory("test-steal", true));
    clientLoops = transport.newGroup(1, new DefaultThreadFactory("test-client", true));
    return new TcpStealer(stealerLoops, recordingRedirector(agentPort), port -> {}, Duration.ZERO);
  }

  private static PortRedirector recordingRedirector(AtomicInteger agentPort) {
    return new PortRedirector() {
      @Override
      public void redirect(int targetPort, int port) {
        agentPort.set(port);
      }

      @Override
      public void unredirect(int targetPort, int port) {}

      @Override
      public Set<Integer> portsStolenByOthers() {
        return Set.of();
      }

      @Override
      public void close() {}
    };
  }

  private static byte[] readAll(InputStream in) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  /** Records what the stealer sends, and any call made off the client's loop. */
  private static final class RecordingClient implements StealClient {
    final EventLoop loop;
    final List<AgentMessage> sent = new CopyOnWriteArrayList<>();
    final List<String> offLoop = new CopyOnWriteArrayList<>();
    final StringBuffer bytes = new StringBuffer();
    final AtomicInteger viaSendData = new AtomicInteger();

    RecordingClient(EventLoop loop) {
      this.loop = loop;
    }

    private void check(String what) {
      if (!loop.inEventLoop()) {
        offLoop.add(what + " on " + Thread.currentThread().getName());
      }
    }

    @Override
    public void send(AgentMessage message) {
      check(message.getClass().getSimpleName());
      sent.add(message);
      if (message instanceof Tcp.Data d) {
        bytes.append(new String(d.bytes().unsafeArray(), StandardCharsets.US_ASCII));
      }
    }

    @Override
    public void sendData(long id, ByteBuf data) {
      check("sendData");
      viaSendData.incrementAndGet();
      try {
        bytes.append(new String(ByteBufUtil.getBytes(data), StandardCharsets.US_ASCII));
      } finally {
        data.release();
      }
    }

    @Override
    public boolean writable() {
      return true;
    }

    @Override
    public EventLoop eventLoop() {
      return loop;
    }

    @Override
    public String name() {
      return "test client";
    }

    String received() {
      return bytes.toString();
    }

    long connectionId() {
      return sent.stream()
          .filter(m -> m instanceof Tcp.NewConnection)
          .map(m -> ((Tcp.NewConnection) m).connectionId())
          .findFirst()
          .orElseThrow();
    }
  }
}
