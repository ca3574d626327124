package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpPortFilterTest {
  private static final int IPV4 = CapturedPacket.ETHERTYPE_IPV4;
  private static final int IPV6 = CapturedPacket.ETHERTYPE_IPV6;

  private static boolean accepts(Set<Integer> ports, byte[] packet, int etherType) {
    return CbpfInterpreter.run(TcpPortFilter.compile(ports), packet, etherType) != 0;
  }

  private static String clientOf(String server) {
    return server.contains(":") ? "fd00::2" : "10.0.0.2";
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"10.0.0.1", "fd00::1"})
  void acceptsTcpToOrFromSubscribedPortsOnly(String server) {
    int etherType = server.contains(":") ? IPV6 : IPV4;
    String client = clientOf(server);
    Set<Integer> ports = Set.of(80, 8080);

    assertThat(accepts(ports, TestPackets.tcp(client, 40000, server, 8080).build(), etherType))
        .as("client to subscribed port")
        .isTrue();
    assertThat(accepts(ports, TestPackets.tcp(server, 80, client, 40000).build(), etherType))
        .as("server from subscribed port")
        .isTrue();
    assertThat(accepts(ports, TestPackets.tcp(client, 40000, server, 9090).build(), etherType))
        .as("other port")
        .isFalse();
    assertThat(
            accepts(
                ports,
                TestPackets.tcp(client, 40000, server, 8080).protocol(17).build(),
                etherType))
        .as("UDP to a subscribed port")
        .isFalse();
  }

  @Test
  void usesTheIpv4HeaderLengthSoOptionsDontHidePorts() {
    for (int words = 0; words <= 10; words++) {
      byte[] toPort = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).ipOptions(words).build();
      byte[] otherPort =
          TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 9999).ipOptions(words).build();
      assertThat(accepts(Set.of(8080), toPort, IPV4)).as("options words %d", words).isTrue();
      assertThat(accepts(Set.of(8080), otherPort, IPV4)).as("options words %d", words).isFalse();
    }
    // With 1 word of options, the bytes at offset 20..23 are NOPs (0x0101 = 257): a filter that
    // assumed a 20-byte header would read port 257 there.
    byte[] trap = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 9999).ipOptions(1).build();
    assertThat(accepts(Set.of(257), trap, IPV4)).isFalse();
  }

  @Test
  void dropsNonFirstFragmentsButLetsFirstFragmentsThrough() {
    byte[] first = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).fragment(true, 0).build();
    byte[] later =
        TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).fragment(false, 185).build();
    assertThat(accepts(Set.of(8080), first, IPV4)).isTrue();
    assertThat(accepts(Set.of(8080), later, IPV4)).isFalse();
  }

  @Test
  void dropsIpv6WithExtensionHeadersAndOtherEtherTypes() {
    byte[] hopByHop =
        TestPackets.tcp("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(0).build();
    assertThat(accepts(Set.of(8080), hopByHop, IPV6)).isFalse();

    byte[] tcp = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(accepts(Set.of(8080), tcp, 0x0806)).as("ARP").isFalse();
    assertThat(accepts(Set.of(8080), tcp, IPV6)).as("IPv4 bytes labelled IPv6").isFalse();
  }

  @Test
  void dropsTruncatedPackets() {
    byte[] full = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    byte[] cut = java.util.Arrays.copyOf(full, 22); // the destination port is missing
    assertThat(accepts(Set.of(8080), cut, IPV4)).isFalse();
    assertThat(accepts(Set.of(8080), new byte[0], IPV4)).isFalse();
  }

  @Test
  void emptySetDropsEverything() {
    assertThat(TcpPortFilter.compile(Set.of())).hasSize(1);
    byte[] tcp = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(accepts(Set.of(), tcp, IPV4)).isFalse();
  }

  @Test
  void acceptedPacketsAreKeptWhole() {
    byte[] tcp = TestPackets.tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(CbpfInterpreter.run(TcpPortFilter.compile(Set.of(8080)), tcp, IPV4)).isEqualTo(-1);
  }

  @Test
  void maxPortsFitsTheKernelLimitAndEveryJumpStaysShort() {
    Set<Integer> many =
        IntStream.rangeClosed(1, TcpPortFilter.MAX_PORTS).boxed().collect(Collectors.toSet());
    List<TcpPortFilter.Instruction> program = TcpPortFilter.compile(many);
    CbpfInterpreter.validate(program);
    assertThat(program.size()).isLessThanOrEqualTo(4096);
    byte[] last = TestPackets.tcp("fd00::2", 40000, "fd00::1", TcpPortFilter.MAX_PORTS).build();
    assertThat(CbpfInterpreter.run(program, last, IPV6)).isNotZero();
    byte[] beyond =
        TestPackets.tcp("fd00::2", 40000, "fd00::1", TcpPortFilter.MAX_PORTS + 1).build();
    // The client port 40000 isn't in the set either.
    assertThat(CbpfInterpreter.run(program, beyond, IPV6)).isZero();

    Set<Integer> tooMany =
        IntStream.rangeClosed(1, TcpPortFilter.MAX_PORTS + 1).boxed().collect(Collectors.toSet());
    assertThatThrownBy(() -> TcpPortFilter.compile(tooMany))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TcpPortFilter.compile(Set.of(70000)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sockFprogLayout() {
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      var program = TcpPortFilter.compile(Set.of(8080));
      var fprog = TcpPortFilter.toSockFprog(program, arena);
      assertThat(fprog.byteSize()).isEqualTo(16);
      assertThat(fprog.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 0))
          .isEqualTo((short) program.size());
      var filter =
          fprog.get(java.lang.foreign.ValueLayout.ADDRESS, 8).reinterpret(8L * program.size());
      // Instruction 1: jeq #0x0800, jt 0, jf 6.
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8)).isEqualTo((short) 0x15);
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 11)).isEqualTo((byte) 6);
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_INT, 12)).isEqualTo(0x0800);
    }
  }
}
