/**
 * DNS in the target's context: {@link dev.mirrord.jvm.podagent.dns.DnsWorker} (one per agent)
 * resolves names the way the target's libc would — its {@code /etc/hosts} and {@code
 * /etc/resolv.conf} (name servers, search list, {@code ndots}, {@code timeout}, {@code attempts}),
 * read through {@code /proc/<pid>/root} by a background check ({@link
 * dev.mirrord.jvm.podagent.dns.TargetFiles}) — with Netty's DNS resolver on the asking client's own
 * event loop, queried from the agent's network namespace, which is the target's. {@link
 * dev.mirrord.jvm.podagent.dns.DnsApi} is one client's door to it.
 */
package dev.mirrord.jvm.podagent.dns;
