package dev.mirrord.jvm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class OutgoingFilterTest {

  private static InetSocketAddress to(String name, String ip, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByAddress(name, InetAddress.getByName(ip).getAddress()), port);
  }

  @Test
  void noFilterSendsEverythingRemote() throws Exception {
    assertThat(OutgoingFilter.of(List.of(), List.of()).remote(false, to("x", "10.1.2.3", 80))).isTrue();
    assertThat(OutgoingFilter.of(List.of(), List.of())).isSameAs(OutgoingFilter.NONE);
  }

  @ParameterizedTest
  @CsvSource({
    // entry, udp, host, ip, port, matches
    "postgres:5432, false, postgres, 198.18.0.20, 5432, true",
    "postgres:5432, false, postgres, 198.18.0.20, 5433, false",
    "postgres, false, postgres.default.svc.cluster.local, 198.18.0.20, 1, true",
    "postgres, false, postgresql, 198.18.0.20, 1, false",
    "10.0.0.0/8, false, x, 10.200.3.4, 443, true",
    "10.0.0.0/8, false, x, 11.0.0.1, 443, false",
    "198.18.0.20, true, x, 198.18.0.20, 9001, true",
    "udp://:53, true, x, 8.8.8.8, 53, true",
    "udp://:53, false, x, 8.8.8.8, 53, false",
    "tcp://*:443, false, x, 1.2.3.4, 443, true",
    "[fd00::1]:80, false, x, fd00::1, 80, true",
    "fd00::/8, false, x, fd12::5, 22, true",
    "fd00::/8, false, x, 10.0.0.1, 22, false",
  })
  void entriesMatchByNameAddressSubnetPortAndProtocol(
      String entry, boolean udp, String host, String ip, int port, boolean matches) throws Exception {
    OutgoingFilter remoteOnly = OutgoingFilter.of(List.of(), List.of(entry));
    OutgoingFilter localOnly = OutgoingFilter.of(List.of(entry), List.of());
    assertThat(remoteOnly.remote(udp, to(host, ip, port))).isEqualTo(matches);
    assertThat(localOnly.remote(udp, to(host, ip, port))).isEqualTo(!matches);
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0/40", "host:port", "a b", "[fd00::1", ":0", ":70000", "1.2.3.4/x", "*"})
  void badEntriesAreRefusedNamingTheEntry(String entry) {
    assertThatThrownBy(() -> OutgoingFilter.of(List.of(entry), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + entry + "'");
  }

  @Test
  void bothListsAtOnceAreRefused() {
    assertThatThrownBy(() -> OutgoingFilter.of(List.of("a"), List.of("b")))
        .hasMessageContaining("either 'local' or 'remote'");
  }
}
