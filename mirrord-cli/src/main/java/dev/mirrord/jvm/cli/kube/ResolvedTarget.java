package dev.mirrord.jvm.cli.kube;

import java.util.List;
import java.util.Objects;

/**
 * A Kubernetes target resolved to one running container: where it runs (node), which container,
 * and the container ID the agent turns into a PID. {@link #targetless()} has no pod: the agent
 * runs in a pod of its own in {@link #namespace()}.
 *
 * @param namespace the target's namespace
 * @param pod the pod name, null when targetless
 * @param podUid the pod's UID (owner annotations), null when targetless
 * @param node the node the pod runs on, null when targetless
 * @param container the container name, null when targetless
 * @param containerId the runtime's ID, e.g. {@code containerd://0123…}, null when targetless
 * @param notices lines for the user (e.g. which container was picked)
 */
public record ResolvedTarget(
    String namespace,
    String pod,
    String podUid,
    String node,
    String container,
    String containerId,
    List<String> notices) {
  public ResolvedTarget {
    Objects.requireNonNull(namespace, "namespace");
    notices = List.copyOf(notices);
  }

  /** No target: outgoing traffic and DNS from an agent pod of its own. */
  public static ResolvedTarget targetless(String namespace) {
    return new ResolvedTarget(namespace, null, null, null, null, null, List.of());
  }

  public boolean isTargetless() {
    return pod == null;
  }

  /** {@code pod/web/container/app in namespace shop}, or {@code targetless in namespace shop}. */
  public String describe() {
    return (isTargetless() ? "targetless" : "pod/" + pod + "/container/" + container)
        + " in namespace "
        + namespace;
  }
}
