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

  /** A segment with one byte of payload: the filter's port tests see it whatever its flags. */
  private static TestPackets.Tcp tcp(
      String source, int sourcePort, String destination, int destinationPort) {
    return TestPackets.tcp(source, sourcePort, destination, destinationPort)
        .payload(new byte[] {'x'});
  }

  private static TestPackets.Tcp pureAck(
      String source, int sourcePort, String destination, int destinationPort) {
    return TestPackets.tcp(source, sourcePort, destination, destinationPort).flags(TcpSegment.ACK);
  }

  private static int etherTypeOf(String address) {
    return address.contains(":") ? IPV6 : IPV4;
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

    assertThat(accepts(ports, tcp(client, 40000, server, 8080).build(), etherType))
        .as("client to subscribed port")
        .isTrue();
    assertThat(accepts(ports, tcp(server, 80, client, 40000).build(), etherType))
        .as("server from subscribed port")
        .isTrue();
    assertThat(accepts(ports, tcp(client, 40000, server, 9090).build(), etherType))
        .as("other port")
        .isFalse();
    assertThat(accepts(ports, tcp(client, 40000, server, 8080).protocol(17).build(), etherType))
        .as("UDP to a subscribed port")
        .isFalse();
  }

  @Test
  void usesTheIpv4HeaderLengthSoOptionsDontHidePorts() {
    for (int words = 0; words <= 10; words++) {
      byte[] toPort = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).ipOptions(words).build();
      byte[] otherPort = tcp("10.0.0.2", 40000, "10.0.0.1", 9999).ipOptions(words).build();
      assertThat(accepts(Set.of(8080), toPort, IPV4)).as("options words %d", words).isTrue();
      assertThat(accepts(Set.of(8080), otherPort, IPV4)).as("options words %d", words).isFalse();
    }
    // With 1 word of options, the bytes at offset 20..23 are NOPs (0x0101 = 257): a filter that
    // assumed a 20-byte header would read port 257 there.
    byte[] trap = tcp("10.0.0.2", 40000, "10.0.0.1", 9999).ipOptions(1).build();
    assertThat(accepts(Set.of(257), trap, IPV4)).isFalse();
  }

  @Test
  void dropsNonFirstFragmentsButLetsFirstFragmentsThrough() {
    byte[] first = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).fragment(true, 0).build();
    byte[] later = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).fragment(false, 185).build();
    assertThat(accepts(Set.of(8080), first, IPV4)).isTrue();
    assertThat(accepts(Set.of(8080), later, IPV4)).isFalse();
  }

  /** Each case: IPv6 extension headers as "type:bytes" before TCP, as a TCP stack may send them. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"0:8", "0:16", "60:8", "43:24", "0:8 60:8", "0:8 60:8 43:16 60:8", "60:2048"})
  void walksIpv6ExtensionHeadersToTheTcpPorts(String chain) {
    Set<Integer> ports = Set.of(8080);
    assertThat(accepts(ports, withHeaders(tcp("fd00::2", 40000, "fd00::1", 8080), chain).build(), IPV6))
        .as("to the port")
        .isTrue();
    assertThat(accepts(ports, withHeaders(tcp("fd00::1", 8080, "fd00::2", 40000), chain).build(), IPV6))
        .as("from the port")
        .isTrue();
    assertThat(accepts(ports, withHeaders(tcp("fd00::2", 40000, "fd00::1", 9090), chain).build(), IPV6))
        .as("another port")
        .isFalse();
    assertThat(accepts(ports, withHeaders(pureAck("fd00::2", 40000, "fd00::1", 8080), chain).build(), IPV6))
        .as("a pure ACK")
        .isFalse();
    assertThat(
            accepts(
                ports,
                withHeaders(pureAck("fd00::2", 40000, "fd00::1", 8080), chain).flags(TcpSegment.FIN).build(),
                IPV6))
        .as("a FIN")
        .isTrue();
    // The extension header's own bytes are not ports: a filter reading TCP right after the fixed
    // header would see them there.
    byte[] elsewhere = withHeaders(tcp("fd00::2", 40000, "fd00::1", 9090), chain).build();
    Set<Integer> trap = new java.util.HashSet<>(Set.of(TcpSegment.u16(elsewhere, 40), TcpSegment.u16(elsewhere, 42)));
    trap.remove(0);
    assertThat(accepts(trap, elsewhere, IPV6)).as("ports %s", trap).isFalse();
  }

  private static TestPackets.Tcp withHeaders(TestPackets.Tcp tcp, String chain) {
    for (String header : chain.split(" ")) {
      String[] typeBytes = header.split(":");
      tcp.ipv6ExtensionHeader(Integer.parseInt(typeBytes[0]), Integer.parseInt(typeBytes[1]));
    }
    return tcp;
  }

  @Test
  void dropsIpv6FragmentsAhEspTooManyHeadersAndOtherEtherTypes() {
    Set<Integer> ports = Set.of(8080);
    byte[] fragment = tcp("fd00::2", 40000, "fd00::1", 8080).ipv6Fragment(0, true).build();
    assertThat(accepts(ports, fragment, IPV6)).as("fragment").isFalse();
    byte[] ah = tcp("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(51, 16).build();
    assertThat(accepts(ports, ah, IPV6)).as("AH").isFalse();
    byte[] esp = tcp("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(50).build();
    assertThat(accepts(ports, esp, IPV6)).as("ESP").isFalse();
    byte[] udp = tcp("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(0).protocol(17).build();
    assertThat(accepts(ports, udp, IPV6)).as("UDP after hop-by-hop").isFalse();
    TestPackets.Tcp most = tcp("fd00::2", 40000, "fd00::1", 8080);
    TestPackets.Tcp tooMany = tcp("fd00::2", 40000, "fd00::1", 8080);
    for (int i = 0; i < TcpPortFilter.MAX_IPV6_EXTENSION_HEADERS; i++) {
      most.ipv6ExtensionHeader(60);
      tooMany.ipv6ExtensionHeader(60);
    }
    tooMany.ipv6ExtensionHeader(60);
    assertThat(accepts(ports, most.build(), IPV6)).as("the most headers walked").isTrue();
    assertThat(accepts(ports, tooMany.build(), IPV6)).as("one more").isFalse();
    byte[] truncated = java.util.Arrays.copyOf(tcp("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(0).build(), 47);
    assertThat(accepts(ports, truncated, IPV6)).as("cut inside the TCP header").isFalse();

    byte[] tcp = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(accepts(Set.of(8080), tcp, 0x0806)).as("ARP").isFalse();
    assertThat(accepts(Set.of(8080), tcp, IPV6)).as("IPv4 bytes labelled IPv6").isFalse();
  }

  @Test
  void dropsTruncatedPackets() {
    byte[] full = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    byte[] cut = java.util.Arrays.copyOf(full, 22); // the destination port is missing
    assertThat(accepts(Set.of(8080), cut, IPV4)).isFalse();
    assertThat(accepts(Set.of(8080), new byte[0], IPV4)).isFalse();
  }

  @Test
  void emptySetDropsEverything() {
    assertThat(TcpPortFilter.compile(Set.of())).hasSize(1);
    byte[] tcp = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(accepts(Set.of(), tcp, IPV4)).isFalse();
  }

  @Test
  void acceptedPacketsAreKeptWhole() {
    byte[] tcp = tcp("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    assertThat(CbpfInterpreter.run(TcpPortFilter.compile(Set.of(8080)), tcp, IPV4)).isEqualTo(-1);
  }

  @Test
  void maxPortsFitsTheKernelLimitAndEveryJumpStaysShort() {
    Set<Integer> many =
        IntStream.rangeClosed(1, TcpPortFilter.MAX_PORTS).boxed().collect(Collectors.toSet());
    List<TcpPortFilter.Instruction> program = TcpPortFilter.compile(many);
    CbpfInterpreter.validate(program);
    assertThat(program.size()).isLessThanOrEqualTo(4096);
    byte[] last = tcp("fd00::2", 40000, "fd00::1", TcpPortFilter.MAX_PORTS).build();
    assertThat(CbpfInterpreter.run(program, last, IPV6)).isNotZero();
    byte[] beyond = tcp("fd00::2", 40000, "fd00::1", TcpPortFilter.MAX_PORTS + 1).build();
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
      // Instruction 1: jeq #0x0800, jt 0, jf 8.
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8)).isEqualTo((short) 0x15);
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 11)).isEqualTo((byte) 8);
      assertThat(filter.get(java.lang.foreign.ValueLayout.JAVA_INT, 12)).isEqualTo(0x0800);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"10.0.0.1", "fd00::1"})
  void dropsPureAcksInBothDirections(String server) {
    int etherType = etherTypeOf(server);
    String client = clientOf(server);
    Set<Integer> ports = Set.of(8080);
    for (int tcpOptionWords = 0; tcpOptionWords <= 10; tcpOptionWords++) {
      byte[] clientAck = pureAck(client, 40000, server, 8080).tcpOptions(tcpOptionWords).build();
      byte[] serverAck = pureAck(server, 8080, client, 40000).tcpOptions(tcpOptionWords).build();
      assertThat(accepts(ports, clientAck, etherType))
          .as("client's pure ACK, %d option words", tcpOptionWords)
          .isFalse();
      assertThat(accepts(ports, serverAck, etherType))
          .as("server's pure ACK, %d option words", tcpOptionWords)
          .isFalse();
    }
  }

  @Test
  void dropsPureAcksWhateverTheIpv4OptionsAndEthernetPadding() {
    for (int words = 0; words <= 10; words++) {
      byte[] ack = pureAck("10.0.0.2", 40000, "10.0.0.1", 8080).ipOptions(words).build();
      byte[] padded =
          pureAck("10.0.0.2", 40000, "10.0.0.1", 8080).ipOptions(words).padding(6).build();
      byte[] oneByte =
          pureAck("10.0.0.2", 40000, "10.0.0.1", 8080)
              .ipOptions(words)
              .tcpOptions(3)
              .payload(new byte[] {'x'})
              .build();
      assertThat(accepts(Set.of(8080), ack, IPV4)).as("option words %d", words).isFalse();
      assertThat(accepts(Set.of(8080), padded, IPV4))
          .as("padding is no payload; option words %d", words)
          .isFalse();
      assertThat(accepts(Set.of(8080), oneByte, IPV4)).as("option words %d", words).isTrue();
    }
    byte[] paddedV6 = pureAck("fd00::2", 40000, "fd00::1", 8080).padding(6).build();
    assertThat(accepts(Set.of(8080), paddedV6, IPV6)).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"10.0.0.1", "fd00::1"})
  void keepsSynFinAndRstWithoutPayloadAndAnyDataSegment(String server) {
    int etherType = etherTypeOf(server);
    String client = clientOf(server);
    Set<Integer> ports = Set.of(8080);
    int[] kept = {
      TcpSegment.SYN,
      TcpSegment.SYN | TcpSegment.ACK,
      TcpSegment.FIN | TcpSegment.ACK,
      TcpSegment.RST,
      TcpSegment.RST | TcpSegment.ACK
    };
    for (int flags : kept) {
      byte[] fromClient = pureAck(client, 40000, server, 8080).flags(flags).tcpOptions(2).build();
      byte[] fromServer = pureAck(server, 8080, client, 40000).flags(flags).build();
      assertThat(accepts(ports, fromClient, etherType)).as("flags 0x%x", flags).isTrue();
      assertThat(accepts(ports, fromServer, etherType)).as("flags 0x%x", flags).isTrue();
    }
    for (int length : new int[] {1, 2, 1400}) {
      byte[] data =
          pureAck(server, 8080, client, 40000)
              .flags(TcpSegment.ACK | TcpSegment.PSH)
              .payload(new byte[length])
              .build();
      assertThat(accepts(ports, data, etherType)).as("%d payload bytes", length).isTrue();
    }
    byte[] ackToOtherPort = pureAck(client, 40000, server, 9090).payload(new byte[10]).build();
    assertThat(accepts(ports, ackToOtherPort, etherType)).isFalse();
  }

  @Test
  void keepsBigTcpSuperPacketsWhoseIpLengthIsZero() {
    byte[] ipv4 = pureAck("10.0.0.2", 40000, "10.0.0.1", 8080).build();
    ipv4[2] = 0;
    ipv4[3] = 0;
    assertThat(accepts(Set.of(8080), ipv4, IPV4)).isTrue();
    byte[] ipv6 = pureAck("fd00::2", 40000, "fd00::1", 8080).build();
    ipv6[4] = 0;
    ipv6[5] = 0;
    assertThat(accepts(Set.of(8080), ipv6, IPV6)).isTrue();
    // With the jumbo payload option (RFC 2675) in a hop-by-hop header, as IPv6 BIG TCP had it.
    byte[] jumbo = pureAck("fd00::2", 40000, "fd00::1", 8080).ipv6ExtensionHeader(0).build();
    jumbo[4] = 0;
    jumbo[5] = 0;
    assertThat(accepts(Set.of(8080), jumbo, IPV6)).isTrue();
  }

  @Test
  void everyPortOfALargeSetIsMatchedOnBothSides() {
    Set<Integer> ports = IntStream.rangeClosed(100, 400).boxed().collect(Collectors.toSet());
    List<TcpPortFilter.Instruction> program = TcpPortFilter.compile(ports);
    CbpfInterpreter.validate(program);
    for (int port = 99; port <= 401; port++) {
      boolean subscribed = ports.contains(port);
      byte[] toPort = tcp("10.0.0.2", 40000, "10.0.0.1", port).build();
      byte[] fromPort = tcp("10.0.0.1", port, "10.0.0.2", 40000).build();
      byte[] ack = pureAck("10.0.0.1", port, "10.0.0.2", 40000).build();
      assertThat(CbpfInterpreter.run(program, toPort, IPV4) != 0)
          .as("to %d", port)
          .isEqualTo(subscribed);
      assertThat(CbpfInterpreter.run(program, fromPort, IPV4) != 0)
          .as("from %d", port)
          .isEqualTo(subscribed);
      assertThat(CbpfInterpreter.run(program, ack, IPV4)).as("pure ACK from %d", port).isZero();
    }
  }
}
