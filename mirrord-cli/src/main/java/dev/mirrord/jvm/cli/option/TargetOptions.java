package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.picocli.OptionSpecs;
import picocli.CommandLine.Model.CommandSpec;

/** Which target to run against: {@code --target}, {@code --pod-name}, namespace and context. */
public final class TargetOptions {

  // The flags, set by bind() from the parsed model (see addTo()).
  String target;
  String podName;
  String namespace;
  String context;
  Integer agentTtl;
  boolean ephemeral;
  boolean agentContainer;
  boolean acceptInvalidCertificates;

  static void addTo(CommandSpec spec) {
    spec.addOption(
        OptionSpecs.option(
            new String[] {"-t", "--target"},
            "TARGET",
            String.class,
            "pid/N, pod/NAME[/container/C], deployment/NAME, statefulset/NAME, targetless, or"
                + " container/NAME (a podman or Docker container on this host)."));
    spec.addOption(OptionSpecs.option("--pod-name", "NAME", String.class, "Same as --target pod/NAME."));
    spec.addOption(
        OptionSpecs.option(
            new String[] {"-n", "--namespace"}, "NS", String.class, "Kubernetes namespace of the target."));
    spec.addOption(OptionSpecs.option("--context", "CTX", String.class, "Kubernetes context to use."));
    spec.addOption(
        OptionSpecs.option(
            "--agent-ttl",
            "SECONDS",
            Integer.class,
            "pid/N targets: keep the agent for SECONDS after the session, so that the next mirrord exec against the"
                + " same target reuses it and skips its start (agent.ttl; default 0: the agent exits with the session)."));
    spec.addOption(
        OptionSpecs.flag(
            "Run the agent as an ephemeral container in the target pod instead of a Job (agent.ephemeral).",
            "--ephemeral"));
    spec.addOption(
        OptionSpecs.flag(
            "container/NAME targets: run the agent as a container of the agent image (agent.image, default"
                + " localhost/mirrord-pod-agent:<version>, built by scripts/image.sh) instead of a local process"
                + " (agent.container).",
            "--agent-container"));
    spec.addOption(
        OptionSpecs.flag(
            "Trust the Kubernetes API server's TLS certificate whatever it is (self-signed, expired, other host);"
                + " insecure (accept_invalid_certificates).",
            "-c",
            "--accept-invalid-certificates"));
  }

  void bind(CommandSpec spec) {
    target = OptionSpecs.value(spec, "--target", null);
    podName = OptionSpecs.value(spec, "--pod-name", null);
    namespace = OptionSpecs.value(spec, "--namespace", null);
    context = OptionSpecs.value(spec, "--context", null);
    agentTtl = OptionSpecs.value(spec, "--agent-ttl", null);
    ephemeral = OptionSpecs.value(spec, "--ephemeral", false);
    agentContainer = OptionSpecs.value(spec, "--agent-container", false);
    acceptInvalidCertificates = OptionSpecs.value(spec, "--accept-invalid-certificates", false);
  }

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
