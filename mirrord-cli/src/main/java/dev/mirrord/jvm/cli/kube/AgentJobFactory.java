package dev.mirrord.jvm.cli.kube;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.CapabilitiesBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;

/**
 * The agent Job (default placement). A pure function of {@link AgentParams}; tests assert its
 * fields one by one.
 *
 * <p>With a target, the Job's pod is pinned to the target's node ({@code nodeName}, which bypasses
 * the scheduler, so taints need tolerations: it tolerates all of them), shares the node's PID
 * namespace ({@code hostPID}) so the agent can find the target container's PID from its container
 * ID ({@code --container-id}), and gets the capabilities to enter the target's network namespace
 * (SYS_ADMIN), read its {@code /proc} files (SYS_PTRACE), install iptables rules (NET_ADMIN) and
 * capture packets (NET_RAW). It is not {@code privileged}: those four are all it needs. The agent
 * then listens on 127.0.0.1:{@code port} inside the target's network namespace.
 *
 * <p>Targetless, the Job's pod is an ordinary pod: the agent serves from its own network namespace
 * ({@code --target-pid 1}: the agent is its container's PID 1), with no added capabilities.
 *
 * <p>Never retried ({@code backoffLimit 0}, {@code restartPolicy Never}); kept {@code
 * ttlSecondsAfterFinished} after it ends; deleted by the CLI at the end of the session.
 */
public final class AgentJobFactory {
  /** Capabilities the agent needs next to a target (and nothing else). */
  public static final List<String> CAPABILITIES = List.of("NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_PTRACE");

  private AgentJobFactory() {}

  public static Job create(AgentParams p) {
    boolean targetless = p.target().isTargetless();
    List<String> how =
        targetless ? List.of("--target-pid", "1") : List.of("--container-id", p.target().containerId());
    var container =
        new ContainerBuilder()
            .withName(AgentLabels.AGENT_NAME)
            .withImage(p.image())
            .withImagePullPolicy("IfNotPresent")
            .withArgs(AgentArgs.of(p, how))
            .withEnv(tokenEnv(p))
            .withSecurityContext(
                new SecurityContextBuilder()
                    .withPrivileged(false)
                    .withRunAsUser(0L)
                    .withCapabilities(targetless ? new Capabilities() : capabilities())
                    .build())
            .withResources(
                new ResourceRequirementsBuilder()
                    .addToRequests("cpu", new Quantity("10m"))
                    .addToRequests("memory", new Quantity("64Mi"))
                    .addToLimits("memory", new Quantity("512Mi"))
                    .build())
            .build();
    var spec =
        new PodSpecBuilder()
            .withRestartPolicy("Never")
            .withAutomountServiceAccountToken(false)
            .withTerminationGracePeriodSeconds(10L)
            .withContainers(container);
    if (!targetless) {
      spec.withNodeName(p.target().node()).withHostPID(true).withTolerations(tolerateEverything());
    }
    return new JobBuilder()
        .withNewMetadata()
        .withName(p.agentName())
        .withNamespace(p.namespace())
        .withLabels(AgentLabels.labels(p))
        .withAnnotations(AgentLabels.annotations(p))
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(0)
        .withTtlSecondsAfterFinished(p.ttlSecondsAfterFinished())
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(AgentLabels.labels(p))
        .withAnnotations(AgentLabels.annotations(p))
        .endMetadata()
        .withSpec(spec.build())
        .endTemplate()
        .endSpec()
        .build();
  }

  static Capabilities capabilities() {
    return new CapabilitiesBuilder().withAdd(CAPABILITIES).build();
  }

  /** {@code operator: Exists} without a key matches every taint, of every effect. */
  static List<Toleration> tolerateEverything() {
    return List.of(new TolerationBuilder().withOperator("Exists").build());
  }

  static List<EnvVar> tokenEnv(AgentParams p) {
    return List.of(new EnvVarBuilder().withName(AgentArgs.TOKEN_ENV).withValue(p.token()).build());
  }
}
