package dev.mirrord.jvm.podagent.sniffer;

import java.nio.charset.StandardCharsets;

/**
 * One TCP connection's packets, in stream offsets: offset 0 is the first payload byte (sequence
 * number {@code isn + 1}).
 */
final class Conversation {
  final String client;
  final int clientPort;
  final String server;
  final int serverPort;
  final int isn;
  final FlowKey key;
  /** IPv6 extension headers (types, 8 bytes each) put before TCP in every packet; none by default. */
  private int[] ipv6ExtensionHeaders = {};

  Conversation(String client, int clientPort, String server, int serverPort, int isn) {
    this.client = client;
    this.clientPort = clientPort;
    this.server = server;
    this.serverPort = serverPort;
    this.isn = isn;
    this.key = new FlowKey(TestPackets.ip(client), clientPort, TestPackets.ip(server), serverPort);
  }

  /** From now on, every packet (IPv6) carries these extension headers before TCP. */
  Conversation withIpv6ExtensionHeaders(int... types) {
    ipv6ExtensionHeaders = types.clone();
    return this;
  }

  private TestPackets.Tcp fromClient() {
    return withHeaders(TestPackets.tcp(client, clientPort, server, serverPort));
  }

  private TestPackets.Tcp fromServer() {
    return withHeaders(TestPackets.tcp(server, serverPort, client, clientPort).seq(777));
  }

  private TestPackets.Tcp withHeaders(TestPackets.Tcp tcp) {
    for (int type : ipv6ExtensionHeaders) {
      tcp.ipv6ExtensionHeader(type);
    }
    return tcp;
  }

  int seqAt(long offset) {
    return (int) (isn + 1 + offset);
  }

  byte[] syn() {
    return fromClient().seq(isn).flags(TcpSegment.SYN).build();
  }

  byte[] synWithData(String data) {
    return fromClient().seq(isn).flags(TcpSegment.SYN).payload(bytes(data)).build();
  }

  byte[] synAck() {
    return fromServer().ack(isn + 1).flags(TcpSegment.SYN | TcpSegment.ACK).build();
  }

  byte[] data(long offset, byte[] payload) {
    return fromClient()
        .seq(seqAt(offset))
        .flags(TcpSegment.ACK | TcpSegment.PSH)
        .payload(payload)
        .build();
  }

  byte[] data(long offset, String payload) {
    return data(offset, bytes(payload));
  }

  byte[] dataFin(long offset, String payload) {
    return fromClient()
        .seq(seqAt(offset))
        .flags(TcpSegment.ACK | TcpSegment.FIN)
        .payload(bytes(payload))
        .build();
  }

  byte[] fin(long offset) {
    return fromClient().seq(seqAt(offset)).flags(TcpSegment.ACK | TcpSegment.FIN).build();
  }

  byte[] rst(long offset) {
    return fromClient().seq(seqAt(offset)).flags(TcpSegment.RST).build();
  }

  /** The server acknowledging every client byte before {@code offset}. */
  byte[] serverAck(long offset) {
    return fromServer().ack(seqAt(offset)).flags(TcpSegment.ACK).build();
  }

  /**
   * The server answering {@code payload}, acknowledging every client byte before {@code offset}.
   */
  byte[] serverData(long ackOffset, String payload) {
    return fromServer()
        .ack(seqAt(ackOffset))
        .flags(TcpSegment.ACK | TcpSegment.PSH)
        .payload(bytes(payload))
        .build();
  }

  byte[] serverFin(long ackOffset) {
    return fromServer().ack(seqAt(ackOffset)).flags(TcpSegment.ACK | TcpSegment.FIN).build();
  }

  byte[] serverRst() {
    return fromServer().flags(TcpSegment.RST).build();
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
