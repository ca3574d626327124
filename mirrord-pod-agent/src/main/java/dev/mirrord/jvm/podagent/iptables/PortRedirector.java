package dev.mirrord.jvm.podagent.iptables;

import java.io.IOException;

/**
 * Sends new TCP connections for a target port to one of the agent's own ports. Steal mode talks to
 * this, never to iptables. {@link #close} removes everything this redirector added and is
 * idempotent.
 */
public interface PortRedirector extends AutoCloseable {

  void redirect(int targetPort, int agentPort) throws IOException;

  void unredirect(int targetPort, int agentPort) throws IOException;

  /** Ports redirected by other, live mirrord sessions in this namespace. */
  java.util.Set<Integer> portsStolenByOthers() throws IOException;

  @Override
  void close();
}
