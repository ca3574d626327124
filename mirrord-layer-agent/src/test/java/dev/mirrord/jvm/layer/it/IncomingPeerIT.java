package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.PeerServerApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real peer of accepted connections, in a child JVM with the shaded layer, on every accept path
 * (ServerSocket, ServerSocketChannel, the app's own Netty NIO and native epoll) and listen address
 * (127.0.0.1, 0.0.0.0, a dual-stack ::, ::1 only). The test plays the CLI: it connects from the
 * session's relay address (or [::1] with a port of the session's range) after telling the layer
 * which real client that source port stands for.
 *
 * <ul>
 *   <li>the app's own local connections (127.0.0.1, ::1) show their real local peer, and asking for
 *       it costs no wait (the old code waited up to 1 s per new connection);
 *   <li>a relay shows the target's client; also when its mapping arrives after the app accepted;
 *   <li>a connection from another session's relay address is not this session's relay.
 * </ul>
 */
class IncomingPeerIT {
  /** Far below the old 1 s wait, far above a loaded machine's scheduling noise. */
  private static final long NO_WAIT_MICROS = 300_000;

  @TempDir Path dir;
  private FakeAgent agent;

  @BeforeEach
  void startAgent() {
    agent = FakeAgent.start();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  static Stream<Arguments> paths() {
    Path jdk17 = (Path) ChildJvm.jdks().findFirst().orElseThrow().get()[1];
    Path current = Path.of(System.getProperty("java.home"));
    // Every accept path and every listen address, not every pair: the peer hooks differ per path,
    // the addresses the app sees per listen address (epoll on :: reports IPv4-mapped peers).
    return Stream.of(
        Arguments.of("socket", "127.0.0.1", current),
        Arguments.of("socket", "::1", current),
        Arguments.of("channel", "0.0.0.0", current),
        Arguments.of("channel", "::", current),
        Arguments.of("netty", "::", current),
        Arguments.of("netty", "127.0.0.1", current),
        Arguments.of("epoll", "::", current),
        Arguments.of("epoll", "0.0.0.0", current),
        Arguments.of("epoll", "::1", current),
        Arguments.of("socket", "::", jdk17),
        Arguments.of("channel", "0.0.0.0", jdk17));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Connects from {@code source} to the app and returns what the app printed for it. */
  private static String connect(ChildJvm.Running app, int n, InetSocketAddress source, InetSocketAddress to,
      Runnable beforeConnect, Runnable afterConnect) throws Exception {
    try (Socket s = new Socket()) {
      s.bind(source);
      beforeConnect.run();
      s.connect(to, 5000);
      afterConnect.run();
      return app.await("peer " + n, Duration.ofSeconds(10));
    }
  }

  private static long micros(String printed) {
    return Long.parseLong(printed.substring(printed.indexOf(" micros=") + 8));
  }

  private static String peer(String printed) {
    return printed.substring(0, printed.indexOf(" micros="));
  }

  @ParameterizedTest(name = "{0} on {1} ({2})")
  @MethodSource("paths")
  void localConnectionsAreAnsweredAtOnceAndRelaysShowTheRealClient(String kind, String host, Path jdk)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    int port = freePort();
    Path session = SessionFile.write(dir, agent.port(), Map.of("incoming.mode", "steal"));
    boolean v6Only = host.equals("::1");
    String loopback = v6Only ? "::1" : "127.0.0.1";
    InetSocketAddress app = new InetSocketAddress(loopback, port);
    try (ChildJvm.Running r = ChildJvm.start(jdk, session.toString(), ChildJvm.withAppNetty(), PeerServerApp.class,
        List.of(kind, host, Integer.toString(port)), dir)) {
      r.await("ready", Duration.ofSeconds(30));
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(
          () -> agent.received(Tcp.PortSubscribe.class).contains(new Tcp.PortSubscribe(port, IncomingMode.STEAL)));
      int n = 0;
      Runnable nothing = () -> {};

      // 1. The developer's own connections: their real peer, no wait, each time.
      List<String> locals = new ArrayList<>(List.of(loopback));
      if (host.equals("::")) {
        locals.add("::1");
      }
      for (String local : locals) {
        for (int i = 0; i < 3; i++) {
          InetSocketAddress to = new InetSocketAddress(local, port);
          String printed = connect(r, ++n, new InetSocketAddress(local, 0), to, nothing, nothing);
          assertThat(peer(printed)).as(r.toString()).contains(local.equals("::1") ? "0:0:0:0:0:0:0:1" : "127.0.0.1");
          assertThat(micros(printed)).as("asking for the peer of a local connection: " + printed)
              .isLessThan(NO_WAIT_MICROS);
        }
      }

      // 2. Relays: the layer is told first, as the CLI does.
      for (int i = 0; i < 3; i++) {
        InetSocketAddress source = v6Only
            ? new InetSocketAddress("::1", SessionFile.RELAY_PORTS6_FROM + i)
            : new InetSocketAddress(SessionFile.RELAY_ADDRESS, 0);
        int realPort = 51000 + i;
        String printed;
        try (Socket s = new Socket()) {
          s.setReuseAddress(true);
          s.bind(source);
          agent.broadcast(new Tcp.IncomingPeer(s.getLocalPort(), "198.18.0.100", realPort));
          Thread.sleep(20); // the message travels on its own connection: let it arrive first, as it does from the CLI
          s.connect(app, 5000);
          printed = r.await("peer " + ++n, Duration.ofSeconds(10));
        }
        assertThat(peer(printed)).as(r.toString()).isEqualTo("/198.18.0.100:" + realPort);
      }

      // 3. A relay whose mapping is still in flight when the app asks: the short wait is allowed.
      if (!v6Only) {
        try (Socket s = new Socket()) {
          s.bind(new InetSocketAddress(SessionFile.RELAY_ADDRESS, 0));
          int cliPort = s.getLocalPort();
          s.connect(app, 5000);
          Thread.sleep(150);
          agent.broadcast(new Tcp.IncomingPeer(cliPort, "198.18.0.100", 52000));
          assertThat(peer(r.await("peer " + ++n, Duration.ofSeconds(10)))).isEqualTo("/198.18.0.100:52000");
        }

        // 4. Another session's relay address (another CLI on this machine) is not ours.
        try (Socket s = new Socket()) {
          s.bind(new InetSocketAddress("127.77.0.2", 0));
          agent.broadcast(new Tcp.IncomingPeer(s.getLocalPort(), "198.18.0.100", 53000));
          Thread.sleep(20);
          s.connect(app, 5000);
          String printed = r.await("peer " + ++n, Duration.ofSeconds(10));
          assertThat(peer(printed)).contains("127.77.0.2");
          assertThat(micros(printed)).isLessThan(NO_WAIT_MICROS);
        }
      }
      assertThat(r.stderr()).as("the layer prints nothing").noneMatch(l -> l.startsWith("mirrord:"));
    }
  }
}
