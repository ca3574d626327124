package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class TransportTest {
  @Test
  void epollLoadsOnThisMachine() {
    // The build runs on Linux x86_64, where the native library must load from the jar: if it did
    // not, -Dmirrord.transport=epoll would silently run on NIO.
    assertThat(Epoll.isAvailable()).as("%s", Epoll.unavailabilityCause()).isTrue();
  }

  @Test
  void withoutARequestTheProcessTakesAuto() {
    assumeTrue(Transport.requested() == null, "no -Dmirrord.transport / MIRRORD_TRANSPORT given");
    assertThat(Transport.preferred()).isEqualTo(Transport.choose(null, Epoll::isAvailable));
  }

  @ParameterizedTest
  @ValueSource(strings = {"nio", "NIO", " nio "})
  void nioIsTakenWhenAskedForEvenWithEpollAvailable(String requested) {
    assertThat(Transport.choose(requested, () -> true)).isEqualTo(Transport.NIO);
  }

  @ParameterizedTest
  @ValueSource(strings = {"epoll", "EPOLL", " epoll"})
  void epollIsTakenWhenAskedForAndAvailable(String requested) {
    assertThat(Transport.choose(requested, () -> true)).isEqualTo(Transport.EPOLL);
    assertThat(Transport.choose(requested, () -> false)).isEqualTo(Transport.NIO);
  }

  @ParameterizedTest
  @ValueSource(strings = {"auto", "AUTO", "typo"})
  void autoIsNioWhileNettysHalfClosedEpollBugStands(String requested) {
    Transport auto = Transport.AUTO_TAKES_EPOLL ? Transport.EPOLL : Transport.NIO;
    assertThat(Transport.choose(requested, () -> true)).isEqualTo(auto);
    assertThat(Transport.choose(null, () -> true)).isEqualTo(auto);
    assertThat(Transport.choose(requested, () -> false)).isEqualTo(Transport.NIO);
  }

  @Test
  void theChannelClassesArePerTransport() {
    assertThat(Transport.EPOLL.socketChannel()).isEqualTo(EpollSocketChannel.class);
    assertThat(Transport.EPOLL.serverSocketChannel()).isEqualTo(EpollServerSocketChannel.class);
    assertThat(Transport.EPOLL.domainSocketChannel()).isEqualTo(EpollDomainSocketChannel.class);
    assertThat(Transport.EPOLL.serverDomainSocketChannel())
        .isEqualTo(EpollServerDomainSocketChannel.class);
    assertThat(Transport.EPOLL.datagramChannel()).isEqualTo(EpollDatagramChannel.class);
    assertThat(Transport.NIO.streamChannelFor(UnixDomainSocketAddress.of("/tmp/x.sock")))
        .isEqualTo(NioDomainSocketChannel.class);
    assertThat(Transport.NIO.streamChannelFor(new InetSocketAddress(1))).isEqualTo(NioSocketChannel.class);
    assertThat(Transport.EPOLL.streamChannelFor(UnixDomainSocketAddress.of("/tmp/x.sock")))
        .isEqualTo(EpollDomainSocketChannel.class);
  }

  @Test
  void epollTakesUnixPathsInNettysOwnAddressType() {
    UnixDomainSocketAddress jdk = UnixDomainSocketAddress.of("/tmp/agent.sock");
    assertThat(Transport.EPOLL.address(jdk))
        .isInstanceOfSatisfying(
            DomainSocketAddress.class, a -> assertThat(a.path()).isEqualTo("/tmp/agent.sock"));
    assertThat(Transport.NIO.address(jdk)).isSameAs(jdk);
    InetSocketAddress tcp = new InetSocketAddress(80);
    assertThat(Transport.EPOLL.address(tcp)).isSameAs(tcp);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aGroupKnowsItsTransport(Transport transport) throws Exception {
    assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable());
    EventLoopGroup group = transport.newGroup(1, new DefaultThreadFactory("transport-test", true));
    try {
      assertThat(Transport.of(group)).isEqualTo(transport);
      assertThat(Transport.of(group.next())).isEqualTo(transport);
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }
  }

  @Test
  void aGroupWithoutSocketsIsRefused() throws Exception {
    EventLoopGroup group = new DefaultEventLoopGroup(1);
    try {
      assertThatThrownBy(() -> Transport.of(group)).isInstanceOf(IllegalArgumentException.class);
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).sync();
    }
  }

  @Test
  void anExplicitRequestIsPassedOnToAChildProcess() {
    String before = System.getProperty(Transport.PROPERTY);
    System.setProperty(Transport.PROPERTY, "nio");
    try {
      Map<String, String> env = new HashMap<>();
      Transport.passOn(env);
      assertThat(env).containsEntry(Transport.ENV, "nio");
    } finally {
      if (before == null) {
        System.clearProperty(Transport.PROPERTY);
      } else {
        System.setProperty(Transport.PROPERTY, before);
      }
    }
  }
}
