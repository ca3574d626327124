/**
 * Outgoing traffic and DNS through the pod (issue 6), end to end: {@link
 * dev.mirrord.jvm.e2e.apps.OutgoingApp} — the PostgreSQL driver, Jedis, {@code java.net.http.HttpClient}, plain and
 * NIO TCP, connected UDP and Netty's {@code DnsNameResolver}, all by cluster names — run inside the lab's pod, outside
 * the lab without mirrord, and under {@code mirrord exec --target pid/<pod>} with and without {@code --no-outgoing}
 * and {@code --no-remote-dns}.
 */
package dev.mirrord.jvm.e2e.outgoing;
