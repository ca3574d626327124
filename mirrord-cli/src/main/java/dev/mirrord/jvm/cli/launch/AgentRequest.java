package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.cli.config.TargetSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What an agent is started for: the target, where it listens (a unix socket in the session dir for
 * local targets), the session token it must require, its log file and verbosity, and the steal
 * settings. {@code captureWarmUp}: whether the agent links its capture code when the CLI has
 * connected, for a first mirror subscription that does not wait for it; false for a session that
 * does not mirror, whose local agent would only take CPU from the app's start beside it.
 */
public record AgentRequest(
    TargetSpec target,
    Path socketPath,
    String token,
    Path logFile,
    boolean verbose,
    boolean flushConnections,
    int handBackGraceSeconds,
    boolean captureWarmUp) {
  /** Steal defaults: flush connections opened before the steal, 3 s hand-back grace; capture warm-up. */
  public AgentRequest(TargetSpec target, Path socketPath, String token, Path logFile, boolean verbose) {
    this(target, socketPath, token, logFile, verbose, true, 3, true);
  }

  /** The same request for another target (a container's process, say). */
  public AgentRequest withTarget(TargetSpec other) {
    return new AgentRequest(
        other, socketPath, token, logFile, verbose, flushConnections, handBackGraceSeconds, captureWarmUp);
  }

  public AgentRequest {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(socketPath, "socketPath");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(logFile, "logFile");
  }

  @Override
  public String toString() {
    return "AgentRequest[target=" + target.describe() + ", socket=" + socketPath + ", log=" + logFile + "]";
  }
}
