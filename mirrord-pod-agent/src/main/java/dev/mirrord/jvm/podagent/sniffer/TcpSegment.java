package dev.mirrord.jvm.podagent.sniffer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * A TCP segment parsed from a captured IP packet; the payload stays in the packet's array.
 *
 * <p>IPv4 header (RFC 791), options included when IHL &gt; 5:
 *
 * <pre>
 *  0       4       8               16      19                      31
 *  +-------+-------+---------------+-------------------------------+
 *  |Version|  IHL  |    DSCP/ECN   |          Total Length         |  0
 *  |         Identification        |Flags|     Fragment Offset     |  4   flags: 0 DF MF
 *  |     TTL       |   Protocol    |        Header Checksum        |  8   protocol 6 = TCP
 *  |                        Source Address                         | 12
 *  |                      Destination Address                      | 16
 *  |                    Options (IHL*4 - 20 bytes)                 | 20
 * </pre>
 *
 * <p>IPv6 fixed header (RFC 8200), then extension headers up to TCP (next header 6):
 *
 * <pre>
 *  0       4               12                                      31
 *  +-------+---------------+---------------------------------------+
 *  |Version| Traffic Class |              Flow Label               |  0
 *  |         Payload Length        |  Next Header  |   Hop Limit   |  4
 *  |                  Source Address (16 bytes)                    |  8
 *  |               Destination Address (16 bytes)                  | 24
 *
 *  hop-by-hop (0), routing (43), destination options (60):    AH (51, RFC 4302):
 *  +---------------+---------------+-------------------+      +-------------+-------------+---------+
 *  |  Next Header  |  Hdr Ext Len  | options / data …  |      | Next Header | Payload Len | …       |
 *  +---------------+---------------+-------------------+      +-------------+-------------+---------+
 *  length (Hdr Ext Len + 1) * 8 bytes                         length (Payload Len + 2) * 4 bytes
 *
 *  fragment (44), 8 bytes:
 *  +---------------+---------------+-------------------------+-----+-+---------------------------+
 *  |  Next Header  |   Reserved    | Fragment Offset (13 b)  | Res |M|      Identification       |
 *  +---------------+---------------+-------------------------+-----+-+---------------------------+
 * </pre>
 *
 * <p>An atomic fragment (offset 0, M clear: the whole packet) is read on; any other fragment is
 * skipped, as for IPv4. ESP and the other extension types (mobility, HIP, shim6, experiments) end
 * the walk: {@link ParsedPacket.Skipped#IPV6_EXTENSION_HEADERS}.
 *
 * <p>TCP header (RFC 9293):
 *
 * <pre>
 *  0                               16                              31
 *  +-------------------------------+-------------------------------+
 *  |          Source Port          |       Destination Port        |  0
 *  |                        Sequence Number                        |  4
 *  |                    Acknowledgment Number                      |  8
 *  | Offset| Rsvd  |C|E|U|A|P|R|S|F|            Window             | 12   offset in 32-bit words
 *  |           Checksum            |        Urgent Pointer         | 16
 *  |                    Options (Offset*4 - 20)                    | 20
 * </pre>
 *
 * <p>Lengths come from the IP header, not from the captured length: frames shorter than the
 * Ethernet minimum arrive padded. A zero IP length on a packet longer than 64 KiB is a BIG TCP
 * super-packet, whose real length is the captured one.
 */
record TcpSegment(
    FlowKey key, int seq, int ack, int flags, byte[] packet, int payloadOffset, int payloadLength)
    implements ParsedPacket {

  public static final int FIN = 0x01;
  public static final int SYN = 0x02;
  public static final int RST = 0x04;
  public static final int PSH = 0x08;
  public static final int ACK = 0x10;

  static final int PROTO_TCP = 6;
  static final int IPV6_HOP_BY_HOP = 0;
  static final int IPV6_ROUTING = 43;
  static final int IPV6_FRAGMENT = 44;
  static final int IPV6_AUTHENTICATION = 51;
  static final int IPV6_DESTINATION_OPTIONS = 60;
  /** More headers than this before TCP is not a packet any TCP stack sends. */
  static final int MAX_IPV6_EXTENSION_HEADERS = 8;

  boolean has(int flag) {
    return (flags & flag) != 0;
  }

  /** A copy of {@code length} payload bytes from {@code from}. */
  byte[] payload(int from, int length) {
    return Arrays.copyOfRange(packet, payloadOffset + from, payloadOffset + from + length);
  }

  /** Parses {@code packet[0, length)}, an IP packet from its network header on. */
  static ParsedPacket parse(byte[] packet, int length) {
    if (length < 1) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    return switch ((packet[0] & 0xff) >>> 4) {
      case 4 -> parseIpv4(packet, length);
      case 6 -> parseIpv6(packet, length);
      default -> ParsedPacket.Skipped.NOT_IP;
    };
  }

  private static ParsedPacket parseIpv4(byte[] packet, int length) {
    if (length < 20) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    int headerLength = (packet[0] & 0x0f) * 4;
    int totalLength = u16(packet, 2);
    if (totalLength == 0 && length > 0xffff) {
      totalLength = length;
    }
    if (headerLength < 20 || totalLength < headerLength || totalLength > length) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    boolean moreFragments = (packet[6] & 0x20) != 0;
    int fragmentOffset = u16(packet, 6) & 0x1fff;
    if (moreFragments || fragmentOffset != 0) {
      return ParsedPacket.Skipped.FRAGMENT;
    }
    if ((packet[9] & 0xff) != PROTO_TCP) {
      return ParsedPacket.Skipped.NOT_TCP;
    }
    if ((packet[1] & 0xff) >>> 2 == TcpSniffer.AGENT_DSCP) {
      return ParsedPacket.Skipped.AGENT_PASS_THROUGH;
    }
    return parseTcp(packet, headerLength, totalLength, 12, 16, 4);
  }

  private static ParsedPacket parseIpv6(byte[] packet, int length) {
    if (length < 40) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    int payloadLength = u16(packet, 4);
    if (payloadLength == 0 && length > 40 + 0xffff) {
      payloadLength = length - 40;
    }
    if (40 + payloadLength > length) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    int end = 40 + payloadLength;
    int nextHeader = packet[6] & 0xff;
    int at = 40;
    for (int walked = 0; nextHeader != PROTO_TCP; walked++) {
      if (walked == MAX_IPV6_EXTENSION_HEADERS) {
        return ParsedPacket.Skipped.IPV6_EXTENSION_HEADERS;
      }
      int headerLength;
      switch (nextHeader) {
        case IPV6_HOP_BY_HOP, IPV6_ROUTING, IPV6_DESTINATION_OPTIONS -> {
          if (at + 2 > end) {
            return ParsedPacket.Skipped.MALFORMED;
          }
          headerLength = ((packet[at + 1] & 0xff) + 1) * 8;
        }
        case IPV6_AUTHENTICATION -> {
          if (at + 2 > end) {
            return ParsedPacket.Skipped.MALFORMED;
          }
          headerLength = ((packet[at + 1] & 0xff) + 2) * 4;
        }
        case IPV6_FRAGMENT -> {
          if (at + 8 > end) {
            return ParsedPacket.Skipped.MALFORMED;
          }
          if ((u16(packet, at + 2) & 0xfff9) != 0) {
            return ParsedPacket.Skipped.FRAGMENT;
          }
          headerLength = 8;
        }
        default -> {
          return isIpv6ExtensionHeader(nextHeader)
              ? ParsedPacket.Skipped.IPV6_EXTENSION_HEADERS
              : ParsedPacket.Skipped.NOT_TCP;
        }
      }
      if (at + headerLength > end) {
        return ParsedPacket.Skipped.MALFORMED;
      }
      nextHeader = packet[at] & 0xff;
      at += headerLength;
    }
    int trafficClass = ((packet[0] & 0x0f) << 4) | ((packet[1] & 0xf0) >>> 4);
    if (trafficClass >>> 2 == TcpSniffer.AGENT_DSCP) {
      return ParsedPacket.Skipped.AGENT_PASS_THROUGH;
    }
    return parseTcp(packet, at, end, 8, 24, 16);
  }

  /** RFC 8200 section 4 and the IANA "IPv6 Extension Header Types" registry. */
  private static boolean isIpv6ExtensionHeader(int nextHeader) {
    return switch (nextHeader) {
      case 0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254 -> true;
      default -> false;
    };
  }

  private static ParsedPacket parseTcp(
      byte[] packet, int tcpStart, int ipEnd, int sourceAt, int destinationAt, int addressLength) {
    if (ipEnd - tcpStart < 20) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    int dataOffset = ((packet[tcpStart + 12] & 0xff) >>> 4) * 4;
    if (dataOffset < 20 || tcpStart + dataOffset > ipEnd) {
      return ParsedPacket.Skipped.MALFORMED;
    }
    FlowKey key =
        new FlowKey(
            address(packet, sourceAt, addressLength),
            u16(packet, tcpStart),
            address(packet, destinationAt, addressLength),
            u16(packet, tcpStart + 2));
    return new TcpSegment(
        key,
        i32(packet, tcpStart + 4),
        i32(packet, tcpStart + 8),
        packet[tcpStart + 13] & 0xff,
        packet,
        tcpStart + dataOffset,
        ipEnd - tcpStart - dataOffset);
  }

  private static InetAddress address(byte[] packet, int at, int length) {
    try {
      return InetAddress.getByAddress(Arrays.copyOfRange(packet, at, at + length));
    } catch (UnknownHostException impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  static int u16(byte[] b, int at) {
    return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
  }

  static int i32(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }

  @Override
  public String toString() {
    return "TcpSegment["
        + key
        + " seq="
        + Integer.toUnsignedString(seq)
        + " ack="
        + Integer.toUnsignedString(ack)
        + " flags=0x"
        + Integer.toHexString(flags)
        + " len="
        + payloadLength
        + "]";
  }
}
