package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.dns.RemoteResolver;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import java.util.function.Supplier;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * {@link RemoteResolver} over the CLI connection: one {@code Dns.LookupRequest} per lookup, the
 * app's thread waiting for the answer at most {@link #TIMEOUT} (longer than the agent's own
 * resolv.conf timeouts in the usual configurations, so the target's verdict normally arrives).
 */
public final class ProxyDnsResolver implements RemoteResolver {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** The main connection, waited for if it is not up yet ({@link ConnectionStart#await}). */
  private final Supplier<ProxyConnection> connection;

  public ProxyDnsResolver(Supplier<ProxyConnection> connection) {
    this.connection = connection;
  }

  @Override
  public boolean available() {
    ProxyConnection connection = this.connection.get();
    return connection.isOpen() && connection.negotiated().compareTo(Dns.SINCE) >= 0;
  }

  @Override
  public RemoteResult<List<String>> lookup(String host, int family) throws IOException {
    ProxyConnection connection = this.connection.get();
    AgentMessage answer;
    try {
      answer =
          connection.await(
              connection.request(new Dns.LookupRequest(connection.nextRequestId(), host, family)),
              System.nanoTime() + TIMEOUT.toNanos(),
              "LookupRequest " + host);
    } catch (HandshakeException e) {
      throw new IOException(e.getMessage(), e);
    }
    if (!(answer instanceof Dns.LookupResponse)) {
      throw new IOException("unexpected answer to LookupRequest: " + answer);
    }
    return ((Dns.LookupResponse) answer).addresses();
  }
}
