package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.cli.config.TargetSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What an agent is started for: the target, where it listens (a unix socket in the session dir for
 * local targets), the session token it must require, its log file and verbosity.
 */
public record AgentRequest(
    TargetSpec target, Path socketPath, String token, Path logFile, boolean verbose) {
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
