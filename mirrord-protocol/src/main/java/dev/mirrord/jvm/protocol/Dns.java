package dev.mirrord.jvm.protocol;

import java.util.List;
import java.util.Objects;

/**
 * DNS family (since {@link #SINCE}): a name resolved in the target's context — its {@code
 * /etc/resolv.conf} (name servers, search domains, {@code ndots}) and {@code /etc/hosts}, queried
 * from inside its network namespace.
 *
 * <p>Answers carry IP literals only. A name that does not exist, or has no address of the asked
 * family, is {@link ResponseError.NotFound}; a server failure or a timeout is {@link
 * ResponseError.RemoteIo}.
 */
public final class Dns {
  private Dns() {}

  /** The first protocol version with this family; a client checks the negotiated version first. */
  public static final ProtocolVersion SINCE = new ProtocolVersion(1, 2);

  /** {@link LookupRequest#family()}: IPv4 and IPv6 addresses (A and AAAA). */
  public static final int ANY = 0;

  /** {@link LookupRequest#family()}: IPv4 addresses only (A). */
  public static final int IPV4 = 4;

  /** {@link LookupRequest#family()}: IPv6 addresses only (AAAA). */
  public static final int IPV6 = 6;

  /** Resolve {@code host} (a name, not an IP literal) for {@code family}: {@link #ANY}, 4 or 6. */
  public record LookupRequest(long requestId, String host, int family) implements ClientMessage {
    public LookupRequest {
      Objects.requireNonNull(host, "host");
      if (host.isEmpty()) {
        throw new IllegalArgumentException("empty host name");
      }
      if (family != ANY && family != IPV4 && family != IPV6) {
        throw new IllegalArgumentException("address family must be 0, 4 or 6: " + family);
      }
    }
  }

  /** Answer to {@link LookupRequest}: the addresses as IP literals, in the resolver's order. */
  public record LookupResponse(long requestId, RemoteResult<List<String>> addresses)
      implements AgentMessage {
    public LookupResponse {
      Objects.requireNonNull(addresses, "addresses");
      if (addresses.isOk()) {
        addresses = RemoteResult.ok(List.copyOf(addresses.value()));
      }
    }
  }
}
