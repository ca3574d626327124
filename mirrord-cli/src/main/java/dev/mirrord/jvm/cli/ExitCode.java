package dev.mirrord.jvm.cli;

/**
 * Exit codes of {@code mirrord} when it fails itself. When the user's command ran, {@code mirrord
 * exec} returns that command's exit code instead (128+signal if a signal killed it), so these codes
 * can also come from the app; the one error line on stderr tells them apart. One code comes from the
 * app's JVMs themselves: 75, the mirrord layer's exit after it lost mirrord ({@code
 * layer.on_disconnect=exit}; see docs/ARCHITECTURE.md, "Lifetimes and clean-up").
 */
public enum ExitCode {
  OK(0),
  /** Bad flags or arguments. */
  USAGE(2),
  /** The target (pid, pod…) does not exist. */
  TARGET_NOT_FOUND(3),
  /**
   * Missing privilege: root to enter another process's network namespace, or an RBAC permission on
   * the Kubernetes API.
   */
  NOT_PERMITTED(4),
  /** The agent could not be started, did not get ready, or failed its handshake in time. */
  AGENT_FAILED(5),
  /** Bad config file, {@code MIRRORD_*} variable or log file. */
  CONFIG(6),
  /** The agent speaks an incompatible protocol, or broke it. */
  PROTOCOL(7),
  /** The request is valid but this build cannot do it. */
  NOT_SUPPORTED_HERE(8),
  /** The installation is incomplete: a jar or a helper tool (nsenter) is missing. */
  INSTALLATION(9),
  /** The Kubernetes API server cannot be reached (wrong context, VPN down, cluster gone). */
  CLUSTER_UNREACHABLE(10),
  /** A bug in mirrord; the log file has the stack trace. */
  INTERNAL(70),
  /** The user's command exists but could not be executed (as in shells). */
  COMMAND_NOT_EXECUTABLE(126),
  /** The user's command was not found (as in shells). */
  COMMAND_NOT_FOUND(127);

  public final int code;

  ExitCode(int code) {
    this.code = code;
  }
}
