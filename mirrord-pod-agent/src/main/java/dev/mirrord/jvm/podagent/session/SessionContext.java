package dev.mirrord.jvm.podagent.session;

import dev.mirrord.jvm.podagent.dns.DnsWorker;
import dev.mirrord.jvm.podagent.incoming.IncomingTasks;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * What every {@link ClientSession} of one agent shares.
 *
 * @param token the session token a client's {@code Hello} must carry
 * @param agentVersion this build's version, sent in {@code HelloOk}
 * @param target the process the agent serves
 * @param blockingWork runs file reads and other blocking work off the event loops
 * @param listener told about authentication and disconnects (the agent's lifecycle)
 * @param incoming the shared steal/mirror tasks, or {@code null} if this agent offers none
 * @param dns the shared resolver, or {@code null} if this agent offers none
 */
public record SessionContext(
    String token,
    String agentVersion,
    TargetProcess target,
    Executor blockingWork,
    SessionListener listener,
    IncomingTasks incoming,
    DnsWorker dns) {

  /** A context without incoming traffic (tests of the other families). */
  public SessionContext(
      String token,
      String agentVersion,
      TargetProcess target,
      Executor blockingWork,
      SessionListener listener) {
    this(token, agentVersion, target, blockingWork, listener, null, null);
  }

  /** A context without DNS (tests of the other families). */
  public SessionContext(
      String token,
      String agentVersion,
      TargetProcess target,
      Executor blockingWork,
      SessionListener listener,
      IncomingTasks incoming) {
    this(token, agentVersion, target, blockingWork, listener, incoming, null);
  }

  public SessionContext {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(agentVersion, "agentVersion");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(blockingWork, "blockingWork");
    Objects.requireNonNull(listener, "listener");
  }

  @Override
  public String toString() {
    return "SessionContext[target=" + target + ", agentVersion=" + agentVersion + "]";
  }
}
