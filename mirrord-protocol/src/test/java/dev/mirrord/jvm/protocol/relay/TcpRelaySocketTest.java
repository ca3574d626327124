package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpRelay} on real loopback sockets of each {@link Transport}: epoll is edge-triggered,
 * so reading that was switched off while bytes arrived must resume without a new edge, and half
 * closes and the socket's writability must be seen as on NIO.
 */
class TcpRelaySocketTest {
  private static final long ID = 5;
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<Message> sent = new CopyOnWriteArrayList<>();
  private volatile boolean peerWritable = true;
  private EventLoopGroup group;
  private ServerSocket server;
  private Socket far;
  private Channel channel;
  private TcpRelay relay;

  @AfterEach
  void stop() throws Exception {
    if (far != null) {
      far.close();
    }
    if (server != null) {
      server.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }
  }

  /** A relayed socket of {@code transport} connected to {@link #far}, attached. */
  private void connect(Transport transport) throws Exception {
    assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "epoll unavailable");
    group = transport.newGroup(1, new DefaultThreadFactory("relay-socket-test", true));
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    relay =
        new TcpRelay(
            ID,
            new TcpRelay.Peer() {
              @Override
              public void send(Message message) {
                sent.add(message);
              }

              @Override
              public boolean writable() {
                return peerWritable;
              }
            });
    channel =
        new Bootstrap()
            .group(group)
            .channel(Transport.of(group).socketChannel())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ProtocolPipeline.WATER_MARK)
            .handler(relay)
            .connect(server.getLocalSocketAddress())
            .sync()
            .channel();
    assertThat(channel.getClass()).isEqualTo(transport.socketChannel());
    far = server.accept();
    onLoop(() -> relay.attach(channel));
  }

  /** Netty 4.2.18's epoll loses a socket once its input ended: see {@link #nettysEpollBug}. */
  private static void assumeHalfClosedSocketsWork(Transport transport) {
    assumeTrue(
        transport == Transport.NIO || Transport.AUTO_TAKES_EPOLL,
        "Netty's epoll loses a half-closed socket (Transport.AUTO_TAKES_EPOLL)");
  }

  private void onLoop(Runnable task) throws Exception {
    channel.eventLoop().submit(task).sync();
  }

  private String dataReceived() {
    StringBuilder out = new StringBuilder();
    for (Message m : sent) {
      if (m instanceof Tcp.Data d) {
        out.append(new String(d.bytes().unsafeArray(), StandardCharsets.US_ASCII));
      }
    }
    return out.toString();
  }

  private long bytesReceived() {
    return sent.stream().filter(m -> m instanceof Tcp.Data).mapToLong(m -> ((Tcp.Data) m).bytes().size()).sum();
  }

  private static Tcp.Data data(String s) {
    return new Tcp.Data(ID, Payload.wrap(s.getBytes(StandardCharsets.US_ASCII)));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void bytesAndHalfClosesTravelBothWays(Transport transport) throws Exception {
    assumeHalfClosedSocketsWork(transport);
    connect(transport);
    far.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
    await().atMost(WAIT).until(() -> dataReceived().equals("hello"));

    onLoop(() -> relay.fromPeer(data("back")));
    byte[] back = far.getInputStream().readNBytes(4);
    assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo("back");

    far.shutdownOutput();
    await().atMost(WAIT).until(() -> sent.contains(new Tcp.Shutdown(ID)));
    assertThat(channel.isActive()).as("half closed, still open the other way").isTrue();
    // The peer pauses and resumes this socket after its input ended (a bulk upload's answer).
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, true)));
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, false)));
    peerWritable = false;
    onLoop(relay::updateAutoRead);
    peerWritable = true;
    onLoop(relay::updateAutoRead);

    onLoop(() -> relay.fromPeer(data("more")));
    onLoop(() -> relay.fromPeer(new Tcp.Shutdown(ID)));
    InputStream in = far.getInputStream();
    assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("more");

    onLoop(() -> relay.fromPeer(new Tcp.Close(ID, false)));
    await().atMost(WAIT).until(() -> !channel.isOpen());
    assertThat(sent).doesNotContain(new Tcp.Close(ID, false), new Tcp.Close(ID, true));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void readingSwitchedOffByAPauseOrABusyPeerResumesWithoutNewBytes(Transport transport)
      throws Exception {
    connect(transport);
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, true)));
    far.getOutputStream().write("while paused".getBytes(StandardCharsets.US_ASCII));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> bytesReceived() == 0);

    // No byte arrives after this: an edge-triggered loop must still read what is queued.
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, false)));
    await().atMost(WAIT).until(() -> dataReceived().equals("while paused"));

    peerWritable = false;
    onLoop(relay::updateAutoRead);
    far.getOutputStream().write(" and busy".getBytes(StandardCharsets.US_ASCII));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> dataReceived().equals("while paused"));

    peerWritable = true;
    onLoop(relay::updateAutoRead);
    await().atMost(WAIT).until(() -> dataReceived().equals("while paused and busy"));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aSocketThatCannotTakeMorePausesThePeerUntilItDrains(Transport transport) throws Exception {
    connect(transport);
    byte[] chunk = new byte[Tcp.MAX_CHUNK];
    int chunks = 128; // 32 MiB: past the kernel's loopback buffers plus the 4 MiB high water mark
    onLoop(
        () -> {
          for (int i = 0; i < chunks; i++) {
            relay.fromPeer(new Tcp.Data(ID, Payload.wrap(chunk)));
          }
        });
    await().atMost(WAIT).until(() -> sent.contains(new Tcp.Flow(ID, true)));

    long total = 0;
    byte[] buf = new byte[1 << 16];
    InputStream in = far.getInputStream();
    while (total < (long) chunks * chunk.length) {
      int n = in.read(buf);
      assertThat(n).isPositive();
      total += n;
    }
    await().atMost(WAIT).until(() -> sent.get(sent.size() - 1).equals(new Tcp.Flow(ID, false)));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aLargeAnswerAfterTheSocketsInputEndedIsDeliveredWhole(Transport transport) throws Exception {
    assumeHalfClosedSocketsWork(transport);
    connect(transport);
    far.getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
    far.shutdownOutput();
    await().atMost(WAIT).until(() -> sent.contains(new Tcp.Shutdown(ID)));

    byte[] chunk = new byte[Tcp.MAX_CHUNK];
    int chunks = 128; // more than the kernel takes at once: the socket must wait to be writable
    onLoop(
        () -> {
          for (int i = 0; i < chunks; i++) {
            relay.fromPeer(new Tcp.Data(ID, Payload.wrap(chunk)));
          }
          relay.fromPeer(new Tcp.Close(ID, false));
        });
    long total = far.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    assertThat(total).isEqualTo((long) chunks * chunk.length);
    assertThat(sent).doesNotContain(new Tcp.Close(ID, true));
  }

  /**
   * The reason {@code auto} is NIO ({@link Transport#AUTO_TAKES_EPOLL}): on Netty 4.2.18's epoll,
   * a read asked for after the socket's input ended fails with {@code epoll_ctl(..) ENOENT} and the
   * relay resets the connection. When this test fails, Netty is fixed: flip AUTO_TAKES_EPOLL.
   */
  @ParameterizedTest
  @EnumSource(value = Transport.class, names = "EPOLL")
  void nettysEpollBug(Transport transport) throws Exception {
    assumeTrue(!Transport.AUTO_TAKES_EPOLL);
    connect(transport);
    far.shutdownOutput();
    await().atMost(WAIT).until(() -> sent.contains(new Tcp.Shutdown(ID)));
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, true)));
    onLoop(() -> relay.fromPeer(new Tcp.Flow(ID, false)));
    await().atMost(WAIT).until(() -> sent.contains(new Tcp.Close(ID, true)));
  }
}
