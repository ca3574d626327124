package dev.mirrord.jvm.cli.kube;

import java.util.Objects;

/**
 * Everything the agent's Kubernetes spec depends on; the factories are pure functions of it.
 *
 * @param sessionId the CLI's session id (lowercase hex), part of every name and label
 * @param namespace where the agent Job runs ({@code agent.namespace}, default the target's)
 * @param target the resolved target (or targetless)
 * @param image the agent image ({@code agent.image})
 * @param port the TCP port the agent listens on (0: a free port, announced in its ready line), on
 *     127.0.0.1 inside the target's network namespace (so a port-forward to the target pod
 *     reaches it)
 * @param token the session token the agent requires; it travels in the environment
 * @param owner who started the session ({@code user@host}), for the owner annotation
 * @param acceptTimeoutSeconds the agent exits if no client authenticates within this time
 * @param idleTimeoutSeconds the agent exits when no client has been connected for this time
 * @param ttlSecondsAfterFinished how long Kubernetes keeps the finished Job
 * @param verbose agent debug logging
 * @param flushConnections steal: flush connections opened before the steal
 * @param handBackGraceSeconds steal: grace for connections in flight after hand-back
 */
public record AgentParams(
    String sessionId,
    String namespace,
    ResolvedTarget target,
    String image,
    int port,
    String token,
    String owner,
    int acceptTimeoutSeconds,
    int idleTimeoutSeconds,
    int ttlSecondsAfterFinished,
    boolean verbose,
    boolean flushConnections,
    int handBackGraceSeconds) {

  public AgentParams {
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(owner, "owner");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /** {@code mirrord-agent-<session id>}: the Job, its container, the ephemeral container. */
  public String agentName() {
    return "mirrord-agent-" + sessionId;
  }

  @Override
  public String toString() {
    return "AgentParams[session=" + sessionId + ", namespace=" + namespace + ", target=" + target.describe() + ", image=" + image + ", port=" + port + "]";
  }
}
