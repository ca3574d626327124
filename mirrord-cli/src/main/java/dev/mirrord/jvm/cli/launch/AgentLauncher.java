package dev.mirrord.jvm.cli.launch;

/**
 * Starts the pod agent for a target and returns once it listens. Implementations: {@link
 * LocalAgentLauncher} ({@code pid/N} on this host); Kubernetes launchers come later.
 */
public interface AgentLauncher {

  /**
   * Starts the agent and waits (bounded) until it is ready.
   *
   * @throws dev.mirrord.jvm.cli.MirrordException with the exit code the user should see
   */
  RunningAgent launch(AgentRequest request);
}
