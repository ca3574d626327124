package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import picocli.CommandLine.Option;

/** Which target to run against: {@code --target}, {@code --pod-name}, namespace and context. */
public final class TargetOptions {

  @Option(
      names = {"-t", "--target"},
      paramLabel = "TARGET",
      description =
          "pid/N, pod/NAME[/container/C], deployment/NAME, statefulset/NAME, targetless, or"
              + " container/NAME (a podman or Docker container on this host).")
  String target;

  @Option(names = "--pod-name", paramLabel = "NAME", description = "Same as --target pod/NAME.")
  String podName;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "Kubernetes namespace of the target.")
  String namespace;

  @Option(names = "--context", paramLabel = "CTX", description = "Kubernetes context to use.")
  String context;

  @Option(
      names = "--agent-ttl",
      paramLabel = "SECONDS",
      description =
          "pid/N targets: keep the agent for SECONDS after the session, so that the next mirrord exec against the"
              + " same target reuses it and skips its start (agent.ttl; default 0: the agent exits with the session).")
  Integer agentTtl;

  @Option(
      names = "--ephemeral",
      description =
          "Run the agent as an ephemeral container in the target pod instead of a Job (agent.ephemeral).")
  boolean ephemeral;

  @Option(
      names = "--agent-container",
      description =
          "container/NAME targets: run the agent as a container of the agent image (agent.image, default"
              + " localhost/mirrord-pod-agent:<version>, built by scripts/image.sh) instead of a local process"
              + " (agent.container).")
  boolean agentContainer;

  @Option(
      names = {"-c", "--accept-invalid-certificates"},
      description =
          "Trust the Kubernetes API server's TLS certificate whatever it is (self-signed, expired, other host);"
              + " insecure (accept_invalid_certificates).")
  boolean acceptInvalidCertificates;

  /**
   * The target the flags name, validated, or null if none.
   *
   * @throws MirrordException USAGE on bad syntax or when both --pod-name and --target are given
   */
  public String target() {
    if (podName != null && target != null) {
      throw new MirrordException(
          ExitCode.USAGE, "--pod-name and --target both name a target; give only one of them");
    }
    String t = podName != null ? "pod/" + podName : target;
    if (t != null) {
      try {
        TargetSpec.parse(t);
      } catch (IllegalArgumentException e) {
        throw new MirrordException(
            ExitCode.USAGE,
            "bad value for --" + (podName != null ? "pod-name" : "target") + ": " + e.getMessage() + "; fix the value");
      }
    }
    return t;
  }

  public String namespace() {
    return namespace;
  }

  public String context() {
    return context;
  }

  /** The agent settings the flags set, or null. */
  public dev.mirrord.jvm.cli.config.MirrordConfig.Agent agent() {
    if (!ephemeral && !agentContainer && agentTtl == null) {
      return null;
    }
    return new dev.mirrord.jvm.cli.config.MirrordConfig.Agent(
        null, null, null, ephemeral ? Boolean.TRUE : null, agentContainer ? Boolean.TRUE : null, agentTtl);
  }

  /** {@code -c}: true, or null (not set by a flag). */
  public Boolean acceptInvalidCertificates() {
    return acceptInvalidCertificates ? Boolean.TRUE : null;
  }
}
