package dev.mirrord.jvm.cli.kube;

import java.util.ArrayList;
import java.util.List;

/** The pod agent's command-line arguments in a cluster (the image's entrypoint runs the agent jar). */
final class AgentArgs {
  private AgentArgs() {}

  /** The variable carrying the session token; never on the command line. */
  static final String TOKEN_ENV = "MIRRORD_AGENT_TOKEN";

  /**
   * @param how {@code --container-id <id>} (Job: find the PID on the node and enter its netns) or
   *     {@code --target-pid 1} (ephemeral container, targetless Job: already in the right netns)
   */
  static List<String> of(AgentParams p, List<String> how) {
    List<String> args = new ArrayList<>(how);
    args.addAll(
        List.of(
            "--listen",
            "tcp:127.0.0.1:" + p.port(),
            "--no-stdin",
            "--accept-timeout",
            Integer.toString(p.acceptTimeoutSeconds()),
            "--idle-timeout",
            Integer.toString(p.idleTimeoutSeconds()),
            "--session-id",
            p.sessionId()));
    if (!p.flushConnections()) {
      args.add("--no-flush-connections");
    }
    if (p.handBackGraceSeconds() != 3) {
      args.addAll(List.of("--hand-back-grace", Integer.toString(p.handBackGraceSeconds())));
    }
    if (p.verbose()) {
      args.add("-v");
    }
    return List.copyOf(args);
  }
}
