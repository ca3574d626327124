/**
 * Mirror mode: the pod agent's passive capture of incoming TCP connections and their reassembly
 * into client-to-server byte streams, copied to the user's app while the target's own server keeps
 * answering.
 *
 * <pre>
 *  PacketSource ──IP packets──▶ TcpSniffer thread "mirrord-sniffer" ──▶ TcpFlowTracker
 *  (AfPacketSource: AF_PACKET      (one per agent, in the target netns)      (per-flow reassembly:
 *   + cBPF TcpPortFilter                    │                                  order, dups, gaps)
 *   + TPACKET_V3 RxRing)                    │
 *                                           ▼ opened / data / closed / dropped
 *                          SnifferSubscriber × N  (one per client per port: SnifferApi)
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.mirrord.jvm.podagent.sniffer.PacketSource}: where IP packets come from. {@link
 *       dev.mirrord.jvm.podagent.sniffer.AfPacketSource} opens an {@code AF_PACKET} socket through
 *       {@code java.lang.foreign}, lets the kernel drop everything but TCP to or from the
 *       subscribed ports and their pure ACKs ({@link
 *       dev.mirrord.jvm.podagent.sniffer.TcpPortFilter}), and reads what is left from a mapped
 *       receive ring ({@link dev.mirrord.jvm.podagent.sniffer.RxRing}).
 *   <li>{@link dev.mirrord.jvm.podagent.sniffer.TcpFlowTracker}: parses IPv4/IPv6 + TCP ({@link
 *       dev.mirrord.jvm.podagent.sniffer.TcpSegment}) and turns segments into in-order streams,
 *       with bounded memory. Single-threaded.
 *   <li>{@link dev.mirrord.jvm.podagent.sniffer.TcpSniffer}: the one shared capture task; many
 *       subscribers per port, connection ids, kernel filter updates, drop counters in the log.
 * </ul>
 *
 * <p>Nothing here enters a namespace: the agent runs inside the target's network namespace ({@code
 * nsenter --net=...}), so the socket opened by {@link
 * dev.mirrord.jvm.podagent.sniffer.AfPacketSource#open()} sees that namespace's interfaces.
 */
package dev.mirrord.jvm.podagent.sniffer;
