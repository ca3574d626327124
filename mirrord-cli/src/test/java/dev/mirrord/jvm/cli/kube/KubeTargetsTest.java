package dev.mirrord.jvm.cli.kube;

import static dev.mirrord.jvm.cli.kube.KubeFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.TargetSpec;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Target resolution against fabric8's mock API server (CRUD mode, loopback). */
@EnableKubernetesMockClient(crud = true)
class KubeTargetsTest {
  KubernetesMockServer server;
  KubernetesClient client;
  KubeTargets targets;

  @BeforeEach
  void setUp() {
    targets = new KubeTargets(client, new KubeCalls(client.getMasterUrl().toString()));
  }

  private ResolvedTarget resolve(String spec) {
    return targets.resolve(TargetSpec.parse(spec), "shop");
  }

  @Test
  void podTargetGivesNodeContainerAndContainerId() {
    create(client, runningPod("shop", "web-1", "app"));

    ResolvedTarget t = resolve("pod/web-1");

    String uid = client.pods().inNamespace("shop").withName("web-1").get().getMetadata().getUid();
    assertThat(t).isEqualTo(
        new ResolvedTarget("shop", "web-1", uid, "node-1", "app", containerId("web-1/app"), java.util.List.of()));
  }

  @Test
  void multiContainerPodWithoutContainerPicksTheFirstNonMirrordOneAndSaysSo() {
    create(client, runningPod("shop", "web-1", "mirrord-agent-old", "app", "istio-proxy"));

    ResolvedTarget t = resolve("pod/web-1");

    assertThat(t.container()).isEqualTo("app");
    assertThat(t.containerId()).isEqualTo(containerId("web-1/app"));
    assertThat(t.notices())
        .containsExactly(
            "pod web-1 has 3 containers (mirrord-agent-old, app, istio-proxy); targeting 'app', pick another with pod/web-1/container/NAME");
  }

  @Test
  void namedContainerIsUsed() {
    create(client, runningPod("shop", "web-1", "app", "istio-proxy"));

    ResolvedTarget t = resolve("pod/web-1/container/istio-proxy");

    assertThat(t.container()).isEqualTo("istio-proxy");
    assertThat(t.notices()).isEmpty();
  }

  @Test
  void unknownContainerNamesTheContainersThere() {
    create(client, runningPod("shop", "web-1", "app", "istio-proxy"));

    expectError(() -> resolve("pod/web-1/container/ap"), ExitCode.TARGET_NOT_FOUND,
        "pod web-1 has no container 'ap' (containers: app, istio-proxy); fix the container name");
  }

  @Test
  void missingPodListsCloseNamesInThatNamespace() {
    create(client, runningPod("shop", "web-api-1", "app"), runningPod("shop", "payments", "app"), runningPod("other", "web-ap", "app"));

    expectError(() -> resolve("pod/web-ap"), ExitCode.TARGET_NOT_FOUND,
        "pod web-ap not found in namespace shop; did you mean pod/web-api-1?");
  }

  @Test
  void missingPodInAnEmptyNamespaceSuggestsCheckingTheNamespace() {
    expectError(() -> resolve("pod/web"), ExitCode.TARGET_NOT_FOUND,
        "pod web not found in namespace shop; there are no pods in namespace shop, check -n (mirrord ls -n NS)");
  }

  @Test
  void podThatIsNotRunningIsRefused() {
    create(client, pod("shop", "web-1", "Pending", Map.of(), "app"));

    expectError(() -> resolve("pod/web-1"), ExitCode.TARGET_NOT_FOUND,
        "pod web-1 in namespace shop is Pending, not Running; wait for it or pick a running pod (kubectl get pods -n shop)");
  }

  @Test
  void deploymentResolvesToARunningPodOfItsSelector() {
    create(client,
        deployment("shop", "api", Map.of("app", "api")),
        pod("shop", "api-a", "Pending", Map.of("app", "api"), "app"),
        pod("shop", "api-b", "Running", Map.of("app", "api"), "app"),
        pod("shop", "other", "Running", Map.of("app", "other"), "app"));

    ResolvedTarget t = resolve("deployment/api");

    assertThat(t.pod()).isEqualTo("api-b");
    assertThat(t.container()).isEqualTo("app");
  }

  @Test
  void deploymentWithoutRunningPodsSaysWhatItsPodsAreDoing() {
    create(client, deployment("shop", "api", Map.of("app", "api")), pod("shop", "api-a", "Pending", Map.of("app", "api"), "app"));

    expectError(() -> resolve("deploy/api"), ExitCode.TARGET_NOT_FOUND,
        "deployment/api in namespace shop has no running pod (its pods: api-a Pending); wait for a pod to run");
  }

  @Test
  void missingDeploymentListsCloseDeployments() {
    create(client, deployment("shop", "checkout", Map.of("app", "c")));

    expectError(() -> resolve("deployment/chekout"), ExitCode.TARGET_NOT_FOUND,
        "deployment chekout not found in namespace shop; did you mean deployment/checkout?");
  }

  @Test
  void statefulSetResolvesToARunningPod() {
    create(client, statefulSet("shop", "db", Map.of("app", "db")), pod("shop", "db-0", "Running", Map.of("app", "db"), "db"));

    ResolvedTarget t = resolve("statefulset/db");

    assertThat(t.pod()).isEqualTo("db-0");
    assertThat(t.container()).isEqualTo("db");
  }

  @Test
  void missingStatefulSetListsCloseOnes() {
    create(client, statefulSet("shop", "postgres", Map.of("app", "db")));

    expectError(() -> resolve("sts/postgress"), ExitCode.TARGET_NOT_FOUND,
        "statefulset postgress not found in namespace shop; did you mean statefulset/postgres?");
  }

  @Test
  void targetlessNeedsNoApiCall() {
    assertThat(resolve("targetless")).isEqualTo(ResolvedTarget.targetless("shop"));
  }

  @Test
  void forbiddenNamesTheVerbTheResourceAndTheNamespace() {
    server.expect().get().withPath("/api/v1/namespaces/shop/pods/web-1")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
            .withMessage("pods \"web-1\" is forbidden: User \"ann\" cannot get resource \"pods\" in API group \"\" in the namespace \"shop\"").build())
        .always();

    expectError(() -> resolve("pod/web-1"), ExitCode.NOT_PERMITTED,
        "the Kubernetes API forbids you to get pods in namespace shop; ask your cluster admin for that RBAC permission (check: kubectl auth can-i get pods -n shop)");
  }

  @Test
  void forbiddenListWhileLookingForCloseNamesIsReportedToo() {
    server.expect().get().withPath("/apis/apps/v1/namespaces/shop/deployments")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").build())
        .always();

    expectError(() -> resolve("deployment/api"), ExitCode.NOT_PERMITTED,
        "the Kubernetes API forbids you to list deployments in namespace shop;");
  }

  static void expectError(ThrowingCallable call, ExitCode code, String messageStart) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            MirrordException.class,
            e -> {
              assertThat(e.getMessage()).startsWith(messageStart);
              assertThat(e.getMessage()).doesNotContain("\n");
              assertThat(e.exitCode()).isEqualTo(code);
            });
  }
}
