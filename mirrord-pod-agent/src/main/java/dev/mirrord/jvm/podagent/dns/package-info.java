/**
 * DNS in the target's context: {@link dev.mirrord.jvm.podagent.dns.DnsWorker} (one per agent)
 * resolves names with dnsjava the way the target's libc would — its {@code /etc/resolv.conf}
 * (name servers, search list, {@code ndots}, {@code timeout}, {@code attempts}) and {@code
 * /etc/hosts}, read through {@code /proc/<pid>/root}, queried from the agent's network namespace,
 * which is the target's. {@link dev.mirrord.jvm.podagent.dns.DnsApi} is one client's door to it.
 */
package dev.mirrord.jvm.podagent.dns;
