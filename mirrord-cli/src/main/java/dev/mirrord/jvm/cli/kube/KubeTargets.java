package dev.mirrord.jvm.cli.kube;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Resolves a Kubernetes {@link TargetSpec} to one running container ({@link ResolvedTarget}):
 *
 * <ul>
 *   <li>{@code pod/X[/container/C]}: that pod, which must be Running and not terminating;
 *   <li>{@code deployment/X}, {@code statefulset/X}: a running pod matching the owner's selector
 *       (ready pods first, then by name, so the choice is stable);
 *   <li>{@code targetless}: nothing to resolve, only the namespace.
 * </ul>
 *
 * Without a container, a pod with several containers gives the first whose name does not start
 * with {@code mirrord}, with a notice saying so. A name that does not exist is an error listing the
 * closest names of that kind in the namespace.
 */
public final class KubeTargets {
  /** Containers whose names start with this are mirrord's own (agents), never a target. */
  static final String MIRRORD_PREFIX = "mirrord";

  private final KubernetesClient kube;
  private final KubeCalls calls;

  public KubeTargets(KubernetesClient kube, KubeCalls calls) {
    this.kube = Objects.requireNonNull(kube, "kube");
    this.calls = Objects.requireNonNull(calls, "calls");
  }

  /**
   * @throws MirrordException TARGET_NOT_FOUND (with close names), NOT_PERMITTED (RBAC),
   *     CLUSTER_UNREACHABLE, or NOT_SUPPORTED_HERE for a pid target
   */
  public ResolvedTarget resolve(TargetSpec target, String namespace) {
    return switch (target) {
      case TargetSpec.Targetless t -> ResolvedTarget.targetless(namespace);
      case TargetSpec.Pod p -> fromPod(podNamed(p.name(), namespace), p.container(), namespace);
      case TargetSpec.Deployment d -> {
        var dep =
            calls.call(
                "get", "deployments", namespace,
                () -> kube.apps().deployments().inNamespace(namespace).withName(d.name()).get());
        if (dep == null) {
          throw notFound("deployment", d.name(), namespace, names("deployments", namespace));
        }
        yield fromOwner("deployment/" + d.name(), dep.getSpec().getSelector(), d.container(), namespace);
      }
      case TargetSpec.StatefulSet s -> {
        var sts =
            calls.call(
                "get", "statefulsets", namespace,
                () -> kube.apps().statefulSets().inNamespace(namespace).withName(s.name()).get());
        if (sts == null) {
          throw notFound("statefulset", s.name(), namespace, names("statefulsets", namespace));
        }
        yield fromOwner("statefulset/" + s.name(), sts.getSpec().getSelector(), s.container(), namespace);
      }
      case TargetSpec.Pid p ->
          throw new MirrordException(
              ExitCode.NOT_SUPPORTED_HERE, p.describe() + " is not a Kubernetes target; it runs without a cluster");
      case TargetSpec.Container c ->
          throw new MirrordException(
              ExitCode.NOT_SUPPORTED_HERE, c.describe() + " is not a Kubernetes target; it runs without a cluster");
    };
  }

  private Pod podNamed(String name, String namespace) {
    Pod pod =
        calls.call("get", "pods", namespace, () -> kube.pods().inNamespace(namespace).withName(name).get());
    if (pod == null) {
      throw notFound("pod", name, namespace, names("pods", namespace));
    }
    return pod;
  }

  private ResolvedTarget fromOwner(String owner, LabelSelector selector, String container, String namespace) {
    if (selector == null
        || ((selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty())
            && (selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty()))) {
      throw new MirrordException(
          ExitCode.TARGET_NOT_FOUND, owner + " in namespace " + namespace + " has no pod selector; target one of its pods with pod/NAME");
    }
    List<Pod> pods =
        calls.call(
            "list", "pods", namespace,
            () -> kube.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems());
    Optional<Pod> running =
        pods.stream()
            .filter(KubeTargets::isRunning)
            .min(Comparator.comparing((Pod p) -> !allReady(p)).thenComparing(p -> p.getMetadata().getName()));
    if (running.isEmpty()) {
      String states =
          pods.isEmpty()
              ? "it has no pods"
              : "its pods: "
                  + pods.stream()
                      .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
                      .limit(5)
                      .map(p -> p.getMetadata().getName() + " " + phaseOf(p))
                      .collect(Collectors.joining(", "));
      throw new MirrordException(
          ExitCode.TARGET_NOT_FOUND,
          owner + " in namespace " + namespace + " has no running pod (" + states + "); wait for a pod to run (kubectl get pods -n " + namespace + ")");
    }
    return fromPod(running.get(), container, namespace);
  }

  private ResolvedTarget fromPod(Pod pod, String container, String namespace) {
    String name = pod.getMetadata().getName();
    if (!isRunning(pod)) {
      throw new MirrordException(
          ExitCode.TARGET_NOT_FOUND,
          "pod " + name + " in namespace " + namespace + " is " + phaseOf(pod) + ", not Running; wait for it or pick a running pod (kubectl get pods -n " + namespace + ")");
    }
    List<String> notices = new ArrayList<>();
    List<Container> containers = pod.getSpec().getContainers();
    Container chosen;
    if (container != null) {
      chosen =
          containers.stream()
              .filter(c -> c.getName().equals(container))
              .findFirst()
              .orElseThrow(
                  () ->
                      new MirrordException(
                          ExitCode.TARGET_NOT_FOUND,
                          "pod " + name + " has no container '" + container + "' (containers: " + containerNames(pod) + "); fix the container name"));
    } else {
      chosen =
          containers.stream()
              .filter(c -> !c.getName().startsWith(MIRRORD_PREFIX))
              .findFirst()
              .orElseThrow(
                  () ->
                      new MirrordException(
                          ExitCode.TARGET_NOT_FOUND,
                          "pod " + name + " has only mirrord containers (" + containerNames(pod) + "); target an application pod"));
      if (containers.size() > 1) {
        notices.add(
            "pod " + name + " has " + containers.size() + " containers (" + containerNames(pod) + "); targeting '" + chosen.getName()
                + "', pick another with pod/" + name + "/container/NAME");
      }
    }
    ContainerStatus status =
        pod.getStatus().getContainerStatuses() == null
            ? null
            : pod.getStatus().getContainerStatuses().stream()
                .filter(s -> chosen.getName().equals(s.getName()))
                .findFirst()
                .orElse(null);
    if (status == null
        || status.getState() == null
        || status.getState().getRunning() == null
        || status.getContainerID() == null
        || status.getContainerID().isBlank()) {
      String why =
          status == null || status.getState() == null
              ? "has no status yet"
              : status.getState().getWaiting() != null
                  ? "is waiting (" + status.getState().getWaiting().getReason() + ")"
                  : status.getState().getTerminated() != null
                      ? "has terminated (" + status.getState().getTerminated().getReason() + ")"
                      : "has no container ID yet";
      throw new MirrordException(
          ExitCode.TARGET_NOT_FOUND,
          "container " + chosen.getName() + " of pod " + name + " " + why + ", not running; wait for it or pick another container");
    }
    return new ResolvedTarget(
        namespace,
        name,
        pod.getMetadata().getUid(),
        pod.getSpec().getNodeName(),
        chosen.getName(),
        status.getContainerID(),
        notices);
  }

  /** Running and not being deleted. */
  static boolean isRunning(Pod pod) {
    return pod.getStatus() != null
        && "Running".equals(pod.getStatus().getPhase())
        && pod.getMetadata().getDeletionTimestamp() == null;
  }

  private static boolean allReady(Pod pod) {
    var statuses = pod.getStatus().getContainerStatuses();
    return statuses != null && !statuses.isEmpty() && statuses.stream().allMatch(s -> Boolean.TRUE.equals(s.getReady()));
  }

  static String phaseOf(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      return "Terminating";
    }
    return pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Unknown" : pod.getStatus().getPhase();
  }

  private static String containerNames(Pod pod) {
    return pod.getSpec().getContainers().stream().map(Container::getName).collect(Collectors.joining(", "));
  }

  private List<String> names(String resource, String namespace) {
    List<? extends HasMetadata> items =
        calls.call(
            "list", resource, namespace,
            () ->
                switch (resource) {
                  case "pods" -> kube.pods().inNamespace(namespace).list().getItems();
                  case "deployments" -> kube.apps().deployments().inNamespace(namespace).list().getItems();
                  case "statefulsets" -> kube.apps().statefulSets().inNamespace(namespace).list().getItems();
                  default -> throw new IllegalArgumentException(resource);
                });
    return items.stream().map(i -> i.getMetadata().getName()).toList();
  }

  private static MirrordException notFound(String kind, String name, String namespace, List<String> all) {
    List<String> close = CloseNames.closest(name, all, 3);
    String hint =
        close.isEmpty()
            ? all.isEmpty()
                ? "; there are no " + kind + "s in namespace " + namespace + ", check -n (mirrord ls -n NS)"
                : "; list them with mirrord ls -n " + namespace
            : "; did you mean " + close.stream().map(c -> kind + "/" + c).collect(Collectors.joining(", ")) + "?";
    return new MirrordException(
        ExitCode.TARGET_NOT_FOUND, kind + " " + name + " not found in namespace " + namespace + hint);
  }
}
