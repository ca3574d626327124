package dev.mirrord.jvm.cli.kube;

import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import java.util.List;

/**
 * The {@code --ephemeral} placement ({@code agent.ephemeral}): the agent as an ephemeral container
 * in the target pod. It shares the pod's network namespace, so it needs no node access, no
 * hostPID and no container-ID lookup; {@code targetContainerName} puts it in the target
 * container's PID namespace, where the target's main process is PID 1 ({@code --target-pid 1}).
 * Pods with {@code shareProcessNamespace: true} have the pause process as PID 1 instead; the
 * environment import then reads the wrong process (not handled yet).
 *
 * <p>Ephemeral containers cannot be removed from a pod: the agent exits when the session ends and
 * the terminated container stays listed in the pod until the pod is replaced. Needs the {@code
 * pods/ephemeralcontainers} subresource (Kubernetes 1.25+) and RBAC {@code patch} on it.
 */
public final class EphemeralAgentFactory {
  private EphemeralAgentFactory() {}

  public static EphemeralContainer create(AgentParams p) {
    if (p.target().isTargetless()) {
      throw new IllegalArgumentException("an ephemeral agent needs a target pod");
    }
    return new EphemeralContainerBuilder()
        .withName(p.agentName())
        .withImage(p.image())
        .withImagePullPolicy("IfNotPresent")
        .withTargetContainerName(p.target().container())
        .withArgs(AgentArgs.of(p, List.of("--target-pid", "1")))
        .withEnv(AgentJobFactory.tokenEnv(p))
        .withSecurityContext(
            new SecurityContextBuilder()
                .withPrivileged(false)
                .withRunAsUser(0L)
                .withCapabilities(AgentJobFactory.capabilities())
                .build())
        .build();
  }

  /** {@code pod} with the agent appended to its ephemeral containers (what the patch sends). */
  public static Pod withAgent(Pod pod, AgentParams p) {
    return new PodBuilder(pod).editSpec().addToEphemeralContainers(create(p)).endSpec().build();
  }
}
