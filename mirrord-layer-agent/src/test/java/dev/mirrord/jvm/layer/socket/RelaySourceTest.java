package dev.mirrord.jvm.layer.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class RelaySourceTest {
  private final RelaySource relays = RelaySource.of("127.9.8.7", 20000, 20099);

  @Test
  void onlyTheSessionsAddressAndItsIpv6PortRangeAreRelays() {
    assertThat(relays.matches(new InetSocketAddress("127.9.8.7", 1))).isTrue();
    assertThat(relays.matches(new InetSocketAddress("::ffff:127.9.8.7", 1))).isTrue();
    assertThat(relays.matches(new InetSocketAddress("::1", 20000))).isTrue();
    assertThat(relays.matches(new InetSocketAddress("::1", 20099))).isTrue();

    assertThat(relays.matches(new InetSocketAddress("127.0.0.1", 40000))).isFalse();
    assertThat(relays.matches(new InetSocketAddress("127.9.8.6", 40000))).isFalse();
    assertThat(relays.matches(new InetSocketAddress("::1", 19999))).isFalse();
    assertThat(relays.matches(new InetSocketAddress("::1", 20100))).isFalse();
    assertThat(relays.matches(new InetSocketAddress("198.18.0.100", 20050))).isFalse();
    assertThat(relays.matches(InetSocketAddress.createUnresolved("localhost", 20050))).isFalse();
    assertThat(RelaySource.of("127.9.8.7", 0, -1).matches(new InetSocketAddress("::1", 0)))
        .as("no IPv6 range").isFalse();
  }

  @Test
  void theAddressIsReadByHand() {
    assertThat(RelaySource.of("127.200.3.4", 0, -1).address().getAddress()).containsExactly(127, 200, 3, 4);
    assertThat(RelaySource.of("127.200.3.4", 0, -1)).hasToString("127.200.3.4");
    assertThat(RelaySource.of("127.255.0.9", 20000, 20099)).hasToString("127.255.0.9 [::1]:20000-20099");
  }

  @Test
  void onlyLoopbackIpv4LiteralsAreAccepted() {
    for (String bad : new String[] {"10.1.2.3", "::1", "localhost", "127.1", "", "127.0.0.256", "127.0.0.1.",
        "127..0.1", "127.0.0.0001", " 127.0.0.1", "127.0.0.-1", "127.0.0.1 ", "::ffff:127.0.0.1"}) {
      assertThatThrownBy(() -> RelaySource.of(bad, 0, -1)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("must be an IPv4 address in 127.0.0.0/8, got '" + bad + "'");
    }
  }
}
