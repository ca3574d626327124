package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Http;
import java.util.Set;

/**
 * Which target ports a session steals (or mirrors) with an HTTP filter: {@code filter} on {@code
 * ports}, or on every port when {@code ports} is empty; {@link #NONE} for none.
 */
public record HttpFilterPolicy(Http.Filter filter, Set<Integer> ports, String description) {
  public static final HttpFilterPolicy NONE = new HttpFilterPolicy(null, Set.of(), "none");

  public HttpFilterPolicy {
    ports = Set.copyOf(ports);
  }

  /** The filter for {@code port}, or {@code null} when the port is stolen (or mirrored) whole. */
  public Http.Filter filterFor(int port) {
    return filter != null && (ports.isEmpty() || ports.contains(port)) ? filter : null;
  }

  /** For logs. */
  public String describe() {
    return description + (ports.isEmpty() ? "" : " on ports " + ports);
  }
}
