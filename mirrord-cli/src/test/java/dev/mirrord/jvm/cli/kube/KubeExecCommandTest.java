package dev.mirrord.jvm.cli.kube;

import static dev.mirrord.jvm.cli.kube.KubeFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mirrord exec} on Kubernetes targets, through the real command line, kubeconfig loading
 * and launcher: every failure is one line and an exit code. Traffic goes to loopback only (the mock
 * API server, and 127.0.0.1:1 for "unreachable").
 */
@EnableKubernetesMockClient(crud = true)
class KubeExecCommandTest {
  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;
  Path layerJar;

  @BeforeEach
  void setUp() throws IOException {
    layerJar = Files.writeString(tmp.resolve("dummy-layer.jar"), "not really a jar");
  }

  CliEnvironment env(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv("PATH"));
    env.put("HOME", tmp.toString());
    env.put("MIRRORD_LAYER_JAR", layerJar.toString());
    env.put("MIRRORD_LOG_FILE", tmp.resolve("cli.log").toString());
    env.putAll(extra);
    return CliEnvironment.system().withEnv(env).withSystemProperties(Map.of()).withTmpDir(tmp).withForwardSignals(false);
  }

  Map<String, String> mockKubeconfig(String ns, String... extraContexts) throws IOException {
    return Map.of("KUBECONFIG", kubeconfig(tmp, client.getMasterUrl().toString(), ns, extraContexts).toString());
  }

  @Test
  void unreachableApiServerIsOneLineAndExit10WithinSeconds() throws IOException {
    Path kc = kubeconfig(tmp, "https://127.0.0.1:1", "shop");
    long t0 = System.nanoTime();

    CliRun r = CliRun.run(env(Map.of("KUBECONFIG", kc.toString())), "exec", "--pod-name", "nope", "--", "java", "-version");

    assertThat(r.code()).as(r.err()).isEqualTo(10);
    assertThat(r.errLines()).singleElement().asString()
        .startsWith("mirrord: error: cannot reach the Kubernetes API server at https://127.0.0.1:1/ (")
        .endsWith("); check the kubeconfig context (kubectl cluster-info) and your network or VPN");
    assertThat(r.out()).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void acceptInvalidCertificatesTrustsTheApiServersSelfSignedCertificateWithAWarning() throws IOException {
    create(client, runningPod("shop", "nope-1", "app"));
    // the mock API server's certificate is self-signed; this kubeconfig does not skip the check
    Path strict = Files.writeString(
        tmp.resolve("strict-kubeconfig"),
        Files.readString(Path.of(mockKubeconfig("shop").get("KUBECONFIG"))).replace("    insecure-skip-tls-verify: true\n", ""));
    assertThat(Files.readString(strict)).doesNotContain("insecure");

    CliRun refused = CliRun.run(env(Map.of("KUBECONFIG", strict.toString())), "exec", "--pod-name", "nope", "--", "java", "-version");
    CliRun trusted = CliRun.run(env(Map.of("KUBECONFIG", strict.toString())), "exec", "-c", "--pod-name", "nope", "--", "java", "-version");
    CliRun longForm = CliRun.run(
        env(Map.of("KUBECONFIG", strict.toString())), "exec", "--accept-invalid-certificates", "--pod-name", "nope", "--", "java", "-version");
    CliRun fromEnv = CliRun.run(
        env(Map.of("KUBECONFIG", strict.toString(), "MIRRORD_ACCEPT_INVALID_CERTIFICATES", "true")),
        "exec", "--pod-name", "nope", "--", "java", "-version");

    assertThat(refused.code()).as(refused.err()).isEqualTo(10); // the TLS handshake fails: not reachable
    for (CliRun r : new CliRun[] {trusted, longForm, fromEnv}) {
      // the API server answered: the pod is simply not there
      assertThat(r.code()).as(r.err()).isEqualTo(3);
      assertThat(r.errLines()).containsExactly(
          "mirrord: warning: -c (accept_invalid_certificates): the Kubernetes API server's TLS certificate is not checked",
          "mirrord: error: pod nope not found in namespace shop; did you mean pod/nope-1?");
    }
  }

  @Test
  void missingPodOnTheMockServerIsOneLineWithCloseNames() throws IOException {
    create(client, runningPod("shop", "nope-1", "app"), runningPod("shop", "web", "app"));

    CliRun r = CliRun.run(env(mockKubeconfig("shop")), "exec", "--pod-name", "nope", "--", "java", "-version");

    assertThat(r.code()).as(r.err()).isEqualTo(3);
    assertThat(r.errLines()).containsExactly("mirrord: error: pod nope not found in namespace shop; did you mean pod/nope-1?");
  }

  @Test
  void namespaceFlagWinsOverTheContextsNamespace() throws IOException {
    create(client, runningPod("other", "web", "app"));

    CliRun r = CliRun.run(env(mockKubeconfig("shop")), "exec", "-n", "other", "--pod-name", "nope", "--", "java");

    assertThat(r.errLines()).containsExactly(
        "mirrord: error: pod nope not found in namespace other; list them with mirrord ls -n other");
  }

  @Test
  void contextWithoutNamespaceMeansDefault() throws IOException {
    CliRun r = CliRun.run(env(mockKubeconfig(null)), "exec", "-t", "deployment/api", "--", "java");

    assertThat(r.code()).isEqualTo(3);
    assertThat(r.errLines()).containsExactly(
        "mirrord: error: deployment api not found in namespace default; there are no deployments in namespace default, check -n (mirrord ls -n NS)");
  }

  @Test
  void unknownContextNamesTheKnownOnes() throws IOException {
    CliRun r = CliRun.run(env(mockKubeconfig("shop", "staging")), "exec", "--context", "prod", "--pod-name", "web", "--", "java");

    assertThat(r.code()).isEqualTo(6);
    assertThat(r.errLines().get(0)).startsWith("mirrord: error: context 'prod' is not in ").endsWith(" (contexts: mock, staging); fix --context");
    assertThat(r.errLines()).hasSize(1);
  }

  @Test
  void knownContextIsUsed() throws IOException {
    CliRun r = CliRun.run(env(mockKubeconfig("shop", "staging")), "exec", "--context", "staging", "--pod-name", "web", "--", "java");

    assertThat(r.code()).isEqualTo(3);
    assertThat(r.errLines()).containsExactly(
        "mirrord: error: pod web not found in namespace shop; there are no pods in namespace shop, check -n (mirrord ls -n NS)");
  }

  @Test
  void contextIsLookedUpInEveryKubeconfigFileOfTheList() throws IOException {
    Path unreachable = kubeconfig(tmp, "https://127.0.0.1:1", "shop");
    Path mock = kubeconfig(tmp, client.getMasterUrl().toString(), "shop", "staging");
    String list = tmp.resolve("missing") + ":" + unreachable + ":" + mock;

    CliRun first = CliRun.run(env(Map.of("KUBECONFIG", list)), "exec", "--pod-name", "web", "--", "java");
    CliRun staging = CliRun.run(env(Map.of("KUBECONFIG", list)), "exec", "--context", "staging", "--pod-name", "web", "--", "java");

    assertThat(first.code()).as(first.err()).isEqualTo(10); // no --context: the first existing file
    assertThat(staging.code()).as(staging.err()).isEqualTo(3); // the file that defines staging
  }

  @Test
  void kubeconfigVariableNamingNoFileIsAConfigError() {
    CliRun r = CliRun.run(env(Map.of("KUBECONFIG", tmp.resolve("missing").toString())), "exec", "--pod-name", "web", "--", "java");

    assertThat(r.code()).isEqualTo(6);
    assertThat(r.errLines()).containsExactly(
        "mirrord: error: KUBECONFIG=" + tmp.resolve("missing") + " names no existing file; fix or unset it");
  }

  @Test
  void homeKubeconfigIsUsedWhenKubeconfigIsUnset() throws IOException {
    Path kc = kubeconfig(tmp, client.getMasterUrl().toString(), "shop");
    Files.createDirectories(tmp.resolve(".kube"));
    Files.move(kc, tmp.resolve(".kube/config"));

    CliRun r = CliRun.run(env(Map.of()), "exec", "--pod-name", "nope", "--", "java");

    assertThat(r.errLines()).containsExactly(
        "mirrord: error: pod nope not found in namespace shop; there are no pods in namespace shop, check -n (mirrord ls -n NS)");
  }

  @Test
  void badAgentConfigIsAConfigError() throws IOException {
    CliRun r =
        CliRun.run(env(Map.of("MIRRORD_AGENT_STARTUP_TIMEOUT", "0")), "exec", "--pod-name", "web", "--", "java");

    assertThat(r.code()).isEqualTo(6);
    assertThat(r.errLines()).containsExactly(
        "mirrord: error: bad value in environment variable MIRRORD_AGENT_STARTUP_TIMEOUT='0' (1-3600 seconds); fix or unset it");
  }
}
