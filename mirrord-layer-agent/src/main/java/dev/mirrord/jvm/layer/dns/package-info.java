/**
 * DNS decisions of the layer, in plain Java: which names the target resolves ({@link
 * dev.mirrord.jvm.layer.dns.DnsOps}) and how its answer becomes what the JDK's name service
 * returns. The transport behind {@link dev.mirrord.jvm.layer.dns.RemoteResolver} knows nothing
 * about which JDK method was hooked.
 */
package dev.mirrord.jvm.layer.dns;
