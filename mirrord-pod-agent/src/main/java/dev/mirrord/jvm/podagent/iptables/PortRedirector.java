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

  /**
   * Redirects with a rule comment that other agents read ({@link #stealsByOthers}): {@code
   * mirrord-http session=ID} for an HTTP-filtered steal, {@code mirrord session=ID} for a whole one.
   */
  default void redirect(int targetPort, int agentPort, String comment) throws IOException {
    redirect(targetPort, agentPort);
  }

  /** Undoes {@link #redirect(int, int, String)}. */
  default void unredirect(int targetPort, int agentPort, String comment) throws IOException {
    unredirect(targetPort, agentPort);
  }

  /** Ports redirected by other, live mirrord sessions in this namespace. */
  java.util.Set<Integer> portsStolenByOthers() throws IOException;

  /** A port another live agent redirects: its rule's comment ("" for agents older than 1.5) and pid. */
  record OtherSteal(int port, String comment, long agentPid) {
    /** Whether the other agent steals only HTTP requests its filters match. */
    public boolean filtered() {
      return comment.startsWith("mirrord-http");
    }

    /** The other session's id from the comment, or its agent's pid. */
    public String session() {
      int at = comment.indexOf("session=");
      return at >= 0 ? comment.substring(at + "session=".length()).split("\\s+")[0] : "of agent pid " + agentPid;
    }
  }

  /** What other live agents redirect; by default derived from {@link #portsStolenByOthers}. */
  default java.util.List<OtherSteal> stealsByOthers() throws IOException {
    return portsStolenByOthers().stream().map(p -> new OtherSteal(p, "", 0)).toList();
  }

  @Override
  void close();
}
