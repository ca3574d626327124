package dev.mirrord.jvm.cli.launch;

import java.net.SocketAddress;

/** A started, listening agent. {@link #close()} stops it (idempotent, never throws). */
public interface RunningAgent extends AutoCloseable {

  /** Where the CLI connects (a {@link java.net.UnixDomainSocketAddress} for local targets). */
  SocketAddress address();

  /** For logs, e.g. {@code "agent pid 1234 for pid/42"}. */
  String describe();

  /** The token the agent requires, if not the session's (an agent kept from an earlier session). */
  default String token() {
    return null;
  }

  /** Where to read the agent's log, if not the session's agent log file (e.g. a kubectl command). */
  default String logHint() {
    return null;
  }

  /**
   * A clearer error for a failed connection or handshake, if the way to the agent knows what went
   * wrong (a refused port-forward); else {@code failure} itself.
   */
  default dev.mirrord.jvm.cli.MirrordException explain(dev.mirrord.jvm.cli.MirrordException failure) {
    return failure;
  }

  @Override
  void close();
}
