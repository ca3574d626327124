/**
 * Kernel redirect rules for steal mode. Only {@link dev.mirrord.jvm.podagent.iptables.ExecIpTables}
 * runs iptables; everything else builds and reads {@code iptables-save}/{@code iptables-restore}
 * text, so it is testable with {@link dev.mirrord.jvm.podagent.iptables.IpTables} fakes.
 *
 * <p>Per agent two chains in the nat table: {@code MIRRORD_IN_<pid>_<tag>} jumped to from
 * PREROUTING (traffic from other hosts/pods) and {@code MIRRORD_OUT_<pid>_<tag>} jumped to from
 * OUTPUT (connections the pod makes to itself, over lo), with a first rule that returns the agent's
 * own traffic (its dedicated group id).
 */
package dev.mirrord.jvm.podagent.iptables;
