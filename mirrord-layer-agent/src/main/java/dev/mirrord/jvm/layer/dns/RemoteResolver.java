package dev.mirrord.jvm.layer.dns;

import dev.mirrord.jvm.protocol.RemoteResult;
import java.io.IOException;
import java.util.List;

/** Asks the target to resolve a name. Implemented by the transport; {@link DnsOps} decides when. */
public interface RemoteResolver {

  /** Whether lookups can be asked now (connected, and the session's protocol has the DNS family). */
  boolean available();

  /**
   * Resolves {@code host} in the target.
   *
   * @param family {@code Dns.ANY}, {@code Dns.IPV4} or {@code Dns.IPV6}
   * @return the target's answer: IP literals, or why not
   * @throws IOException no answer at all (connection lost, timed out)
   */
  RemoteResult<List<String>> lookup(String host, int family) throws IOException;
}
