package dev.mirrord.jvm.podagent.sniffer;

/** What {@link TcpSegment#parse} made of a captured packet: a segment, or why it was skipped. */
sealed interface ParsedPacket permits TcpSegment, ParsedPacket.Skipped {

  /** Why a packet isn't a usable TCP segment. */
  enum Skipped implements ParsedPacket {
    /** Neither IPv4 nor IPv6. */
    NOT_IP,
    /** IP but another transport. */
    NOT_TCP,
    /**
     * An IPv4 fragment or an IPv6 fragment header (other than an atomic one): not reassembled, TCP
     * stacks set DF and size segments to the path MTU.
     */
    FRAGMENT,
    /** IPv6 with an extension header that cannot be walked (ESP, mobility…) or too many of them. */
    IPV6_EXTENSION_HEADERS,
    /** Lengths that don't add up. */
    MALFORMED,
    /**
     * Sent by a mirrord agent's pass-through socket (HTTP-filtered steal handing an unmatched
     * request to the target's own server): marked with {@link TcpSniffer#AGENT_DSCP}. The client's
     * own connection was seen (and mirrored) when it arrived; its pass-through copy must not be.
     */
    AGENT_PASS_THROUGH
  }
}
