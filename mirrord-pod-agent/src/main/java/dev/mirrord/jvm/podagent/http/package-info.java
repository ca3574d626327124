/**
 * HTTP-filtered steal and mirror: which requests of a stolen port's connections go to a session
 * ({@link dev.mirrord.jvm.podagent.http.HttpFilterMatcher}), protocol detection on a redirected
 * connection ({@link dev.mirrord.jvm.podagent.http.ProtocolSniffer}), Netty's HTTP/1 decoders that
 * also hand on the exact bytes they consumed ({@link dev.mirrord.jvm.podagent.http.RawBytes}), and
 * the per-connection router ({@link dev.mirrord.jvm.podagent.http.FilteredConnection}) that passes
 * unmatched requests through to the target's own server, byte for byte. See ARCHITECTURE.md,
 * "HTTP-filtered steal and mirror".
 */
package dev.mirrord.jvm.podagent.http;
