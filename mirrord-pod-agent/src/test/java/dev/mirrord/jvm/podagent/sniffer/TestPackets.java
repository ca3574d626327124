package dev.mirrord.jvm.podagent.sniffer;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Builds IPv4/IPv6 packets (network header first) as a capture would return them. */
final class TestPackets {
  private TestPackets() {}

  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static Tcp tcp(String source, int sourcePort, String destination, int destinationPort) {
    return new Tcp(ip(source), sourcePort, ip(destination), destinationPort);
  }

  /** A TCP segment in an IPv4 or IPv6 packet, by the addresses' family. */
  static final class Tcp {
    private final InetAddress source;
    private final int sourcePort;
    private final InetAddress destination;
    private final int destinationPort;
    private int seq;
    private int ack;
    private int flags = TcpSegment.ACK;
    private byte[] payload = new byte[0];
    private int ipOptionWords;
    private int tcpOptionWords;
    private int padding;
    private boolean moreFragments;
    private int fragmentOffset;
    /** IPv6 extension headers before TCP, in order: {type, length in bytes, fragment field}. */
    private final List<int[]> ipv6ExtensionHeaders = new ArrayList<>();
    private int protocol = 6;

    Tcp(InetAddress source, int sourcePort, InetAddress destination, int destinationPort) {
      this.source = source;
      this.sourcePort = sourcePort;
      this.destination = destination;
      this.destinationPort = destinationPort;
    }

    Tcp seq(int value) {
      seq = value;
      return this;
    }

    Tcp ack(int value) {
      ack = value;
      return this;
    }

    Tcp flags(int value) {
      flags = value;
      return this;
    }

    Tcp payload(byte[] value) {
      payload = value;
      return this;
    }

    /** IPv4 options: {@code words} 4-byte words of NOPs (IHL = 5 + words). */
    Tcp ipOptions(int words) {
      ipOptionWords = words;
      return this;
    }

    Tcp tcpOptions(int words) {
      tcpOptionWords = words;
      return this;
    }

    /** Trailing bytes after the IP packet, like Ethernet padding. */
    Tcp padding(int bytes) {
      padding = bytes;
      return this;
    }

    Tcp fragment(boolean more, int offsetIn8ByteUnits) {
      moreFragments = more;
      fragmentOffset = offsetIn8ByteUnits;
      return this;
    }

    /** IPv6: add an 8-byte extension header of this type (e.g. 0 hop-by-hop) before TCP. */
    Tcp ipv6ExtensionHeader(int type) {
      return ipv6ExtensionHeader(type, 8);
    }

    /**
     * IPv6: add an extension header of this type and length (a multiple of 8; its length field is
     * set as the type wants: AH in 4-byte units minus 2, the others in 8-byte units minus 1).
     */
    Tcp ipv6ExtensionHeader(int type, int bytes) {
      ipv6ExtensionHeaders.add(new int[] {type, bytes, 0});
      return this;
    }

    /** IPv6: add a fragment header (44) with this offset (in 8-byte units) and M flag. */
    Tcp ipv6Fragment(int offsetIn8ByteUnits, boolean more) {
      ipv6ExtensionHeaders.add(new int[] {TcpSegment.IPV6_FRAGMENT, 8, offsetIn8ByteUnits << 3 | (more ? 1 : 0)});
      return this;
    }

    /** Another transport number in the IP header (the "TCP" bytes stay, as a UDP-ish payload). */
    Tcp protocol(int value) {
      protocol = value;
      return this;
    }

    byte[] build() {
      int tcpHeader = 20 + 4 * tcpOptionWords;
      ByteBuffer tcp = ByteBuffer.allocate(tcpHeader + payload.length);
      tcp.putShort((short) sourcePort).putShort((short) destinationPort).putInt(seq).putInt(ack);
      tcp.put((byte) ((tcpHeader / 4) << 4)).put((byte) flags).putShort((short) 65535);
      tcp.putShort((short) 0).putShort((short) 0);
      for (int i = 0; i < 4 * tcpOptionWords; i++) {
        tcp.put((byte) 1); // NOP
      }
      tcp.put(payload);
      byte[] transport = tcp.array();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (source instanceof Inet4Address) {
        int header = 20 + 4 * ipOptionWords;
        ByteBuffer ip = ByteBuffer.allocate(header);
        ip.put((byte) (0x40 | header / 4))
            .put((byte) 0)
            .putShort((short) (header + transport.length));
        ip.putShort((short) 0x1234)
            .putShort((short) ((moreFragments ? 0x2000 : 0x4000 /* DF */) | fragmentOffset));
        ip.put((byte) 64).put((byte) protocol).putShort((short) 0);
        ip.put(source.getAddress()).put(destination.getAddress());
        for (int i = 0; i < 4 * ipOptionWords; i++) {
          ip.put((byte) 1);
        }
        out.writeBytes(ip.array());
      } else {
        int extensions = ipv6ExtensionHeaders.stream().mapToInt(h -> h[1]).sum();
        ByteBuffer ip = ByteBuffer.allocate(40 + extensions);
        ip.putInt(0x60000000).putShort((short) (transport.length + extensions));
        ip.put((byte) (extensions > 0 ? ipv6ExtensionHeaders.get(0)[0] : protocol)).put((byte) 64);
        ip.put(source.getAddress()).put(destination.getAddress());
        for (int i = 0; i < ipv6ExtensionHeaders.size(); i++) {
          int[] h = ipv6ExtensionHeaders.get(i);
          int next = i + 1 < ipv6ExtensionHeaders.size() ? ipv6ExtensionHeaders.get(i + 1)[0] : protocol;
          int lengthField = h[0] == TcpSegment.IPV6_AUTHENTICATION ? h[1] / 4 - 2 : h[1] / 8 - 1;
          ip.put((byte) next).put((byte) (h[0] == TcpSegment.IPV6_FRAGMENT ? 0 : lengthField));
          if (h[0] == TcpSegment.IPV6_FRAGMENT) {
            ip.putShort((short) h[2]).putInt(0x1234);
          } else {
            for (int b = 2; b < h[1]; b++) {
              ip.put((byte) (b == 2 ? 1 : 0)); // a PadN option's type, then zeros (valid padding)
            }
          }
        }
        out.writeBytes(ip.array());
      }
      out.writeBytes(transport);
      out.writeBytes(new byte[padding]);
      return out.toByteArray();
    }
  }
}
