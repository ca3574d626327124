package dev.mirrord.jvm.cli.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** What {@code mirrord ls} prints: the targets of one namespace in the {@code --target} syntax. */
public final class KubeTargetList {
  private KubeTargetList() {}

  /**
   * Running pods ({@code pod/NAME}, plus {@code pod/NAME/container/C} per container when there
   * are several; mirrord's own agent containers and pods are left out), then {@code
   * deployment/NAME}, then {@code statefulset/NAME}, each sorted by name.
   */
  public static List<String> list(KubeClientFactory.Connection connection) {
    KubernetesClient kube = connection.client();
    String ns = connection.namespace();
    KubeCalls calls = new KubeCalls(connection.apiServer());
    List<String> out = new ArrayList<>();
    List<Pod> pods =
        calls.call("list", "pods", ns, () -> kube.pods().inNamespace(ns).list().getItems());
    pods.stream()
        .filter(KubeTargets::isRunning)
        .filter(p -> p.getMetadata().getLabels() == null || !AgentLabels.AGENT_NAME.equals(p.getMetadata().getLabels().get(AgentLabels.NAME)))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .forEach(
            p -> {
              String name = p.getMetadata().getName();
              out.add("pod/" + name);
              List<Container> containers =
                  p.getSpec().getContainers().stream().filter(c -> !c.getName().startsWith(KubeTargets.MIRRORD_PREFIX)).toList();
              if (containers.size() > 1) {
                containers.forEach(c -> out.add("pod/" + name + "/container/" + c.getName()));
              }
            });
    calls.call("list", "deployments", ns, () -> kube.apps().deployments().inNamespace(ns).list().getItems()).stream()
        .map(d -> d.getMetadata().getName())
        .sorted()
        .forEach(n -> out.add("deployment/" + n));
    calls.call("list", "statefulsets", ns, () -> kube.apps().statefulSets().inNamespace(ns).list().getItems()).stream()
        .map(s -> s.getMetadata().getName())
        .sorted()
        .forEach(n -> out.add("statefulset/" + n));
    return out;
  }
}
