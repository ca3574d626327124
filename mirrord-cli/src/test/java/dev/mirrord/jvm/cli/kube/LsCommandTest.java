package dev.mirrord.jvm.cli.kube;

import static dev.mirrord.jvm.cli.kube.KubeFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mirrord ls} against the mock API server. */
@EnableKubernetesMockClient(crud = true)
class LsCommandTest {
  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;

  CliEnvironment env(String ns) throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("KUBECONFIG", kubeconfig(tmp, client.getMasterUrl().toString(), ns).toString());
    return CliEnvironment.system().withEnv(env).withSystemProperties(Map.of()).withTmpDir(tmp).withForwardSignals(false);
  }

  @Test
  void listsRunningPodsTheirContainersDeploymentsAndStatefulSetsOfTheNamespace() throws IOException {
    create(client,
        runningPod("shop", "web-2", "app"),
        runningPod("shop", "web-1", "app", "istio-proxy", "mirrord-agent-x"),
        pod("shop", "pending-1", "Pending", Map.of(), "app"),
        new PodBuilder(runningPod("shop", "mirrord-agent-abc-x1", "mirrord-agent"))
            .editMetadata().withLabels(Map.of("app.kubernetes.io/name", "mirrord-agent")).endMetadata().build(),
        runningPod("other", "elsewhere", "app"),
        deployment("shop", "web", Map.of("app", "web")),
        deployment("shop", "api", Map.of("app", "api")),
        statefulSet("shop", "db", Map.of("app", "db")),
        deployment("other", "not-here", Map.of("app", "x")));

    CliRun r = CliRun.run(env("shop"), "ls");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().lines())
        .containsExactly(
            "pod/web-1",
            "pod/web-1/container/app",
            "pod/web-1/container/istio-proxy",
            "pod/web-2",
            "deployment/api",
            "deployment/web",
            "statefulset/db");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void namespaceFlagPicksTheNamespace() throws IOException {
    create(client, runningPod("other", "elsewhere", "app"));

    CliRun r = CliRun.run(env("shop"), "ls", "-n", "other");

    assertThat(r.out().lines()).containsExactly("pod/elsewhere");
  }

  @Test
  void emptyNamespaceSaysSoOnStderr() throws IOException {
    CliRun r = CliRun.run(env("empty"), "ls");

    assertThat(r.code()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines()).containsExactly("mirrord: no targets in namespace empty");
  }

  @Test
  void forbiddenListIsOneLineAndExit4() throws IOException {
    server.expect().get().withPath("/apis/apps/v1/namespaces/shop/statefulsets")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").build()).always();

    CliRun r = CliRun.run(env("shop"), "ls");

    assertThat(r.code()).isEqualTo(4);
    assertThat(r.errLines()).containsExactly(
        "mirrord: error: the Kubernetes API forbids you to list statefulsets in namespace shop; ask your cluster admin for that RBAC permission (check: kubectl auth can-i list statefulsets -n shop)");
  }

  @Test
  void unreachableApiServerIsOneLineAndExit10() throws IOException {
    Map<String, String> env = Map.of("KUBECONFIG", kubeconfig(tmp, "https://127.0.0.1:1", "shop").toString());

    CliRun r = CliRun.run(CliEnvironment.system().withEnv(env).withSystemProperties(Map.of()).withTmpDir(tmp), "ls");

    assertThat(r.code()).isEqualTo(10);
    assertThat(r.errLines()).singleElement().asString().startsWith("mirrord: error: cannot reach the Kubernetes API server at https://127.0.0.1:1/");
  }
}
