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

  /**
   * For a target on this host whose {@code /proc/N} the CLI can read itself: that directory,
   * checked as {@link #launch} checks the target (so a bad target fails here, before anything
   * starts). The session then reads the target's environment and resolver files there and starts the
   * command while the agent starts. Empty: only the agent can answer for the target.
   *
   * @throws dev.mirrord.jvm.cli.MirrordException as {@link #launch} would for this target
   */
  default java.util.Optional<java.nio.file.Path> localProcDir(dev.mirrord.jvm.cli.config.TargetSpec target) {
    return java.util.Optional.empty();
  }
}
