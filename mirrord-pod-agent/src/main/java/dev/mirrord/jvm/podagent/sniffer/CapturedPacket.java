package dev.mirrord.jvm.podagent.sniffer;

/**
 * One captured IP packet.
 *
 * @param data the packet from its network header on (IPv4 or IPv6); it may carry link-layer padding
 *     after the IP packet's end, so parsers use the IP length fields
 * @param etherType the link-layer protocol, {@code 0x0800} (IPv4) or {@code 0x86DD} (IPv6)
 * @param type which way the packet went, from {@code sockaddr_ll.sll_pkttype}
 * @param interfaceIndex the interface it was seen on ({@code sll_ifindex})
 * @param timestampNanos {@link System#nanoTime()} when the reader got it: monotonic, so flow
 *     timeouts survive wall-clock jumps
 */
public record CapturedPacket(
    byte[] data, int etherType, PacketType type, int interfaceIndex, long timestampNanos) {

  public static final int ETHERTYPE_IPV4 = 0x0800;
  public static final int ETHERTYPE_IPV6 = 0x86DD;

  /** {@code PACKET_*} values of {@code <linux/if_packet.h>}, in their numeric order. */
  public enum PacketType {
    /** Addressed to this host. */
    HOST,
    BROADCAST,
    MULTICAST,
    /** Addressed to another host (promiscuous mode). */
    OTHERHOST,
    /** Sent by this host. */
    OUTGOING,
    /** Any value this enum does not know. */
    OTHER;

    static PacketType of(int pkttype) {
      return pkttype >= 0 && pkttype < OTHER.ordinal() ? values()[pkttype] : OTHER;
    }
  }
}
