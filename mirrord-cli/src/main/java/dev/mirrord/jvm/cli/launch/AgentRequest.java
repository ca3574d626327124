package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.cli.config.TargetSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What an agent is started for: the target, where it listens (a unix socket in the session dir for
 * local targets), the session token it must require, its log file and verbosity.
 */
public record AgentRequest(
    TargetSpec target,
    Path socketPath,
    String token,
    Path logFile,
    boolean verbose,
    boolean flushConnections,
    int handBackGraceSeconds) {
  /** Steal defaults: flush connections opened before the steal, 3 s hand-back grace. */
  public AgentRequest(TargetSpec target, Path socketPath, String token, Path logFile, boolean verbose) {
    this(target, socketPath, token, logFile, verbose, true, 3);
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
