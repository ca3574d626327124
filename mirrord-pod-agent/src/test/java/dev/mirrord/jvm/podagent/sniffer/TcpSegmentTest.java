package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TcpSegmentTest {

  private static TcpSegment parseTcp(byte[] packet) {
    ParsedPacket parsed = TcpSegment.parse(packet, packet.length);
    assertThat(parsed).isInstanceOf(TcpSegment.class);
    return (TcpSegment) parsed;
  }

  private static String payload(TcpSegment segment) {
    return new String(segment.payload(0, segment.payloadLength()), StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "{0} -> {1}, IP options {2} words, TCP options {3} words")
  @CsvSource({
    "10.0.0.2, 10.0.0.1, 0, 0",
    "10.0.0.2, 10.0.0.1, 3, 0",
    "10.0.0.2, 10.0.0.1, 10, 10",
    "fd00::2, fd00::1, 0, 0",
    "fd00::2, fd00::1, 0, 3",
  })
  void parsesAddressesPortsSequenceFlagsAndPayload(
      String source, String destination, int ipOptions, int tcpOptions) {
    byte[] packet =
        TestPackets.tcp(source, 40001, destination, 8080)
            .seq(0xfffffff0)
            .ack(0x01020304)
            .flags(TcpSegment.ACK | TcpSegment.PSH)
            .ipOptions(ipOptions)
            .tcpOptions(tcpOptions)
            .payload("hello".getBytes(StandardCharsets.UTF_8))
            .build();
    TcpSegment segment = parseTcp(packet);

    assertThat(segment.key())
        .isEqualTo(new FlowKey(TestPackets.ip(source), 40001, TestPackets.ip(destination), 8080));
    assertThat(segment.seq()).isEqualTo(0xfffffff0);
    assertThat(segment.ack()).isEqualTo(0x01020304);
    assertThat(segment.has(TcpSegment.PSH)).isTrue();
    assertThat(segment.has(TcpSegment.SYN)).isFalse();
    assertThat(payload(segment)).isEqualTo("hello");
  }

  @Test
  void ignoresLinkLayerPaddingAfterTheIpPacket() {
    byte[] padded = TestPackets.tcp("10.0.0.2", 40001, "10.0.0.1", 8080).padding(6).build();
    assertThat(parseTcp(padded).payloadLength()).isZero();

    byte[] padded6 =
        TestPackets.tcp("fd00::2", 40001, "fd00::1", 8080)
            .payload(new byte[] {1, 2})
            .padding(10)
            .build();
    assertThat(parseTcp(padded6).payloadLength()).isEqualTo(2);
  }

  /** DSCP in the top six bits of IPv4's TOS / IPv6's traffic class (which spans bytes 0 and 1); ECN set too. */
  @ParameterizedTest(name = "{0}, DSCP {1}")
  @CsvSource({
    "10.0.0.2, 45, true",
    "10.0.0.2, 44, false",
    "10.0.0.2, 46, false",
    "10.0.0.2, 0, false",
    "fd00::2, 45, true",
    "fd00::2, 13, false",
    "fd00::2, 47, false",
  })
  void skipsTheAgentsPassThroughPacketsByTheirDscp(String source, int dscp, boolean skipped) {
    String destination = source.contains(":") ? "fd00::1" : "10.0.0.1";
    byte[] packet = TestPackets.tcp(source, 40001, destination, 8080).flags(TcpSegment.SYN).build();
    int tos = dscp << 2 | 1;
    if (source.contains(":")) {
      packet[0] = (byte) (0x60 | tos >>> 4);
      packet[1] = (byte) ((tos & 0x0f) << 4 | packet[1] & 0x0f);
    } else {
      packet[1] = (byte) tos;
    }
    ParsedPacket parsed = TcpSegment.parse(packet, packet.length);
    if (skipped) {
      assertThat(parsed).isEqualTo(ParsedPacket.Skipped.AGENT_PASS_THROUGH);
    } else {
      assertThat(parsed).isInstanceOf(TcpSegment.class);
    }
  }

  @Test
  void skipsFragments() {
    byte[] first = TestPackets.tcp("10.0.0.2", 1, "10.0.0.1", 2).fragment(true, 0).build();
    byte[] later = TestPackets.tcp("10.0.0.2", 1, "10.0.0.1", 2).fragment(false, 100).build();
    assertThat(TcpSegment.parse(first, first.length)).isEqualTo(ParsedPacket.Skipped.FRAGMENT);
    assertThat(TcpSegment.parse(later, later.length)).isEqualTo(ParsedPacket.Skipped.FRAGMENT);
  }

  /** Each case: extension headers as "type:bytes" before TCP. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "0:8",
        "0:16",
        "60:8",
        "43:24",
        "51:16",
        "44:8",
        "0:8 60:8 43:8 60:16",
        "0:8 0:8 0:8 0:8 0:8 0:8 0:8 0:8",
      })
  void walksIpv6ExtensionHeadersToTcp(String chain) {
    TestPackets.Tcp tcp =
        TestPackets.tcp("fd00::2", 40001, "fd00::1", 8080)
            .seq(7)
            .payload("v6".getBytes(StandardCharsets.UTF_8));
    for (String header : chain.split(" ")) {
      String[] typeBytes = header.split(":");
      int type = Integer.parseInt(typeBytes[0]);
      if (type == TcpSegment.IPV6_FRAGMENT) {
        tcp.ipv6Fragment(0, false); // an atomic fragment: the whole packet
      } else {
        tcp.ipv6ExtensionHeader(type, Integer.parseInt(typeBytes[1]));
      }
    }
    TcpSegment segment = parseTcp(tcp.build());

    assertThat(segment.key())
        .isEqualTo(new FlowKey(TestPackets.ip("fd00::2"), 40001, TestPackets.ip("fd00::1"), 8080));
    assertThat(segment.seq()).isEqualTo(7);
    assertThat(payload(segment)).isEqualTo("v6");
  }

  @Test
  void skipsIpv6FragmentsUnwalkableOrTooManyExtensionHeadersAndOtherTransports() {
    byte[] firstFragment =
        TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6Fragment(0, true).build();
    byte[] laterFragment =
        TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6Fragment(100, false).build();
    byte[] esp = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6ExtensionHeader(50).build();
    TestPackets.Tcp nine = TestPackets.tcp("fd00::2", 1, "fd00::1", 2);
    for (int i = 0; i < TcpSegment.MAX_IPV6_EXTENSION_HEADERS + 1; i++) {
      nine.ipv6ExtensionHeader(TcpSegment.IPV6_DESTINATION_OPTIONS);
    }
    byte[] tooMany = nine.build();
    byte[] noNextHeader = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).protocol(59).build();
    byte[] udpAfterHopByHop =
        TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6ExtensionHeader(0).protocol(17).build();
    byte[] udp6 = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).protocol(17).build();
    byte[] udp4 = TestPackets.tcp("10.0.0.2", 1, "10.0.0.1", 2).protocol(17).build();

    byte[] arp = {0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1};
    Map<String, Object[]> cases = new LinkedHashMap<>();
    cases.put("first fragment", new Object[] {firstFragment, ParsedPacket.Skipped.FRAGMENT});
    cases.put("later fragment", new Object[] {laterFragment, ParsedPacket.Skipped.FRAGMENT});
    cases.put("ESP", new Object[] {esp, ParsedPacket.Skipped.IPV6_EXTENSION_HEADERS});
    cases.put("too many headers", new Object[] {tooMany, ParsedPacket.Skipped.IPV6_EXTENSION_HEADERS});
    cases.put("no next header", new Object[] {noNextHeader, ParsedPacket.Skipped.NOT_TCP});
    cases.put("UDP after hop-by-hop", new Object[] {udpAfterHopByHop, ParsedPacket.Skipped.NOT_TCP});
    cases.put("UDP over IPv6", new Object[] {udp6, ParsedPacket.Skipped.NOT_TCP});
    cases.put("UDP over IPv4", new Object[] {udp4, ParsedPacket.Skipped.NOT_TCP});
    cases.put("ARP", new Object[] {arp, ParsedPacket.Skipped.NOT_IP});
    cases.forEach((name, c) -> {
      byte[] packet = (byte[]) c[0];
      assertThat(TcpSegment.parse(packet, packet.length)).as(name).isEqualTo(c[1]);
    });
  }

  @Test
  void rejectsIpv6ExtensionHeadersThatRunPastThePacket() {
    byte[] good = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6ExtensionHeader(0, 16).build();
    assertThat(TcpSegment.parse(good, good.length)).isInstanceOf(TcpSegment.class);

    byte[] longHeader = good.clone();
    longHeader[41] = 20; // 168 bytes of options in a packet of 76
    assertThat(TcpSegment.parse(longHeader, longHeader.length))
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);

    byte[] headerOnly = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6ExtensionHeader(60).build();
    headerOnly[5] = 8; // payload length: the extension header only, no TCP header after it
    assertThat(TcpSegment.parse(headerOnly, headerOnly.length))
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);
    headerOnly[5] = 1; // not even the extension header's first two bytes
    assertThat(TcpSegment.parse(headerOnly, headerOnly.length))
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);
  }

  @Test
  void bigTcpIpv6SuperPacketWithAJumboHopByHopHeaderUsesTheCapturedLength() {
    byte[] payload = new byte[70_000];
    Arrays.fill(payload, (byte) 'y');
    byte[] packet =
        TestPackets.tcp("fd00::2", 1, "fd00::1", 2).ipv6ExtensionHeader(0).payload(payload).build();
    packet[4] = 0; // payload length 0: the real one is in the jumbo payload option (RFC 2675)
    packet[5] = 0;
    TcpSegment segment = parseTcp(packet);
    assertThat(segment.payloadLength()).isEqualTo(70_000);
    assertThat(segment.key().destinationPort()).isEqualTo(2);
  }

  @Test
  void rejectsLengthsThatDontAddUp() {
    byte[] good = TestPackets.tcp("10.0.0.2", 1, "10.0.0.1", 2).payload(new byte[10]).build();

    assertThat(TcpSegment.parse(good, 0)).isEqualTo(ParsedPacket.Skipped.MALFORMED);
    assertThat(TcpSegment.parse(good, 19)).isEqualTo(ParsedPacket.Skipped.MALFORMED);
    assertThat(TcpSegment.parse(good, good.length - 1))
        .as("IP total length beyond the capture")
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);

    byte[] badIhl = good.clone();
    badIhl[0] = 0x44;
    assertThat(TcpSegment.parse(badIhl, badIhl.length)).isEqualTo(ParsedPacket.Skipped.MALFORMED);

    byte[] badDataOffset = good.clone();
    badDataOffset[20 + 12] = (byte) 0xf0; // 60-byte TCP header in a 30-byte segment
    assertThat(TcpSegment.parse(badDataOffset, badDataOffset.length))
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);

    byte[] tinyDataOffset = good.clone();
    tinyDataOffset[20 + 12] = 0x40;
    assertThat(TcpSegment.parse(tinyDataOffset, tinyDataOffset.length))
        .isEqualTo(ParsedPacket.Skipped.MALFORMED);

    byte[] v6 = TestPackets.tcp("fd00::2", 1, "fd00::1", 2).build();
    assertThat(TcpSegment.parse(v6, 39)).isEqualTo(ParsedPacket.Skipped.MALFORMED);
    assertThat(TcpSegment.parse(v6, v6.length - 1)).isEqualTo(ParsedPacket.Skipped.MALFORMED);
  }

  @Test
  void bigTcpIpv4SuperPacketUsesTheCapturedLength() {
    byte[] payload = new byte[70_000];
    Arrays.fill(payload, (byte) 'x');
    byte[] packet = TestPackets.tcp("10.0.0.2", 1, "10.0.0.1", 2).payload(payload).build();
    packet[2] = 0; // BIG TCP: total length 0, the real one is the skb's
    packet[3] = 0;
    assertThat(parseTcp(packet).payloadLength()).isEqualTo(70_000);
  }
}
