package dev.mirrord.jvm.cli.kube;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Pods, deployments and kubeconfig files for the mock API server tests. */
final class KubeFixtures {
  private KubeFixtures() {}

  static String containerId(String name) {
    return "containerd://" + Integer.toHexString(name.hashCode()).repeat(8).substring(0, 64);
  }

  /** A pod in {@code phase} whose containers all run (when Running) with container IDs. */
  static Pod pod(String ns, String name, String phase, Map<String, String> labels, String... containers) {
    var spec = new ArrayList<io.fabric8.kubernetes.api.model.Container>();
    var statuses = new ArrayList<io.fabric8.kubernetes.api.model.ContainerStatus>();
    for (String c : containers) {
      spec.add(new ContainerBuilder().withName(c).withImage(c + ":1").build());
      var status = new ContainerStatusBuilder().withName(c).withReady("Running".equals(phase));
      if ("Running".equals(phase)) {
        status.withContainerID(containerId(name + "/" + c)).withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning().endState();
      } else {
        status.withNewState().withNewWaiting().withReason("ContainerCreating").endWaiting().endState();
      }
      statuses.add(status.build());
    }
    return new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).withUid("uid-" + name).withLabels(labels).endMetadata()
        .withNewSpec().withNodeName("node-1").withContainers(spec).endSpec()
        .withNewStatus().withPhase(phase).withContainerStatuses(statuses).endStatus()
        .build();
  }

  static Pod runningPod(String ns, String name, String... containers) {
    return pod(ns, name, "Running", Map.of(), containers);
  }

  static Deployment deployment(String ns, String name, Map<String, String> selector) {
    return new DeploymentBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(1).withNewSelector().withMatchLabels(selector).endSelector()
        .withNewTemplate().withNewMetadata().withLabels(selector).endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec()
        .endTemplate().endSpec()
        .build();
  }

  static StatefulSet statefulSet(String ns, String name, Map<String, String> selector) {
    return new StatefulSetBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(1).withServiceName(name).withNewSelector().withMatchLabels(selector).endSelector()
        .withNewTemplate().withNewMetadata().withLabels(selector).endMetadata()
        .withNewSpec().addNewContainer().withName("db").withImage("db:1").endContainer().endSpec()
        .endTemplate().endSpec()
        .build();
  }

  static void create(KubernetesClient client, Object... resources) {
    for (Object r : resources) {
      client.resource((io.fabric8.kubernetes.api.model.HasMetadata) r).create();
    }
  }

  /** A kubeconfig whose current context {@code mock} points at {@code server} with namespace {@code ns}. */
  static Path kubeconfig(Path dir, String server, String ns, String... extraContexts) throws IOException {
    List<String> contexts = new ArrayList<>(List.of("mock"));
    contexts.addAll(List.of(extraContexts));
    StringBuilder y = new StringBuilder();
    y.append("apiVersion: v1\nkind: Config\nclusters:\n- name: mock\n  cluster:\n    server: ").append(server).append("\n");
    y.append("    insecure-skip-tls-verify: true\n");
    y.append("users:\n- name: me\n  user:\n    token: test-token\n");
    y.append("contexts:\n");
    for (String c : contexts) {
      y.append("- name: ").append(c).append("\n  context:\n    cluster: mock\n    user: me\n");
      if (ns != null) {
        y.append("    namespace: ").append(ns).append("\n");
      }
    }
    y.append("current-context: mock\n");
    Path file = dir.resolve("kubeconfig-" + System.nanoTime());
    Files.writeString(file, y.toString());
    return file;
  }
}
