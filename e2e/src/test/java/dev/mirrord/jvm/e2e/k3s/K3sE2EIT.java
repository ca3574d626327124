package dev.mirrord.jvm.e2e.k3s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.e2e.apps.DnsLookupApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.ProbeApp;
import dev.mirrord.jvm.e2e.apps.TinyHttpApp;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The whole Kubernetes flow on a one-node k3s in Docker: the agent image is built from
 * mirrord-pod-agent/Dockerfile and imported into k3s's containerd (no registry), a sample pod runs
 * nginx, and {@code mirrord exec --pod-name web} starts the agent Job next to it (hostPID, container
 * ID → PID, nsenter), waits for its ready line and port-forwards to it.
 *
 * <p>Skipped, with the reason, where no Docker engine is reachable (as on the development machines,
 * where this class has therefore never run). Traffic: the test talks to the k3s API on the Docker
 * host's mapped port and to pods only through {@code kubectl} inside the k3s container.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class K3sE2EIT {
  static final String K3S_IMAGE = "rancher/k3s:v1.31.4-k3s1";
  static final String AGENT_IMAGE = "mirrord-pod-agent:e2e";

  static K3sContainer k3s;
  static Path kubeconfig;
  static String podIp;
  @TempDir static Path tmp;

  @BeforeAll
  static void startCluster() throws Exception {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      docker = false;
    }
    assumeTrue(
        docker,
        "[e2e] no Docker engine reachable (testcontainers found none): K3sE2EIT is SKIPPED;"
            + " it needs Docker to run k3s and to build the agent image");
    Path jar = LabPaths.jar("mirrord-pod-agent");
    assumeTrue(Files.isRegularFile(jar), "[e2e] " + jar + " is not built: K3sE2EIT is SKIPPED");

    String image =
        new ImageFromDockerfile(AGENT_IMAGE, false)
            .withFileFromPath("Dockerfile", LabPaths.repoRoot().resolve("mirrord-pod-agent/Dockerfile"))
            .withFileFromPath("mirrord-pod-agent/target/mirrord-pod-agent.jar", jar)
            .withFileFromPath("mirrord-pod-agent/image", LabPaths.repoRoot().resolve("mirrord-pod-agent/image"))
            .get();

    k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE));
    k3s.start();

    Path tar = tmp.resolve("agent.tar");
    try (InputStream in = DockerClientFactory.instance().client().saveImageCmd(image).exec()) {
      Files.copy(in, tar, StandardCopyOption.REPLACE_EXISTING);
    }
    k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/agent.tar");
    kubectlOk("ctr", "-n", "k8s.io", "images", "import", "/tmp/agent.tar");

    kubectlOk("kubectl", "run", "web", "--image=nginx:1.27-alpine", "--port=80", "--env=POD_GREETING=hello-from-k3s");
    kubectlOk("kubectl", "wait", "--for=condition=Ready", "pod/web", "--timeout=180s");
    podIp = kubectlOk("kubectl", "get", "pod", "web", "-o", "jsonpath={.status.podIP}").strip();

    kubeconfig = tmp.resolve("kubeconfig");
    Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
  }

  @AfterAll
  static void stopCluster() {
    if (k3s != null) {
      k3s.stop();
    }
  }

  @Test
  void envImportAndLayerConnectionThroughTheAgentJob() throws Exception {
    Run r = mirrord(List.of("exec", "--pod-name", "web", "-n", "default", "--"), JavaApps.command(ProbeApp.class, "--env", "POD_GREETING"), null);

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("probe.mirrord.layer.connected=true", "probe.env.POD_GREETING=hello-from-k3s");
    assertThat(r.err()).contains("resolved pod/web/container/web in namespace default", "agent ready in pod", "port-forward");
    // the Job is gone once the session ends
    assertThat(kubectlOk("kubectl", "get", "jobs", "-l", "app.kubernetes.io/name=mirrord-agent", "-o", "name")).isBlank();
  }

  @Test
  void remoteDnsResolvesClusterNames() throws Exception {
    Run r = mirrord(List.of("exec", "--pod-name", "web", "--"), JavaApps.command(DnsLookupApp.class, "kubernetes.default"), null);

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("kubernetes\\.default=10\\.43\\.0\\.1");
  }

  @Test
  void stealAnswersThePodsTrafficFromTheLocalApp() throws Exception {
    CompletableFuture<String> inCluster = new CompletableFuture<>();
    Run r =
        mirrord(
            List.of("exec", "--pod-name", "web", "--steal", "-p", "18080:80", "--"),
            JavaApps.command(TinyHttpApp.class, "18080", "local", "60"),
            line -> {
              if (line.startsWith(TinyHttpApp.READY_PREFIX) && !inCluster.isDone()) {
                try {
                  inCluster.complete(
                      kubectlOk("kubectl", "run", "client", "--rm", "-i", "--restart=Never", "--image=busybox:1.36",
                          "--", "wget", "-qO-", "http://" + podIp + ":80/stolen"));
                } catch (Exception e) {
                  inCluster.completeExceptionally(e);
                }
                return true; // stop the app
              }
              return false;
            });

    assertThat(inCluster.get(5, TimeUnit.MINUTES)).contains("hello from local: GET /stolen");
    assertThat(r.err()).doesNotContain("error");
  }

  /** Output and exit code of one {@code mirrord} run. */
  record Run(int code, String out, String err) {}

  /** Runs the CLI jar; {@code onLine} sees stdout lines and returns true to stop the command. */
  static Run mirrord(List<String> args, List<String> command, java.util.function.Predicate<String> onLine) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(JavaApps.javaExecutable().toString(), "-jar", LabPaths.jar("mirrord-cli").toString()));
    cmd.addAll(args);
    cmd.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(
        Map.of(
            "KUBECONFIG", kubeconfig.toString(),
            "MIRRORD_AGENT_IMAGE", AGENT_IMAGE,
            "MIRRORD_AGENT_STARTUP_TIMEOUT", "180",
            "MIRRORD_LAYER_JAR", LabPaths.jar("mirrord-layer-agent").toString()));
    Path errFile = tmp.resolve("cli-" + System.nanoTime() + ".err");
    pb.redirectError(errFile.toFile());
    Process p = pb.start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        out.append(line).append('\n');
        if (onLine != null && onLine.test(line)) {
          p.toHandle().descendants().forEach(ProcessHandle::destroy);
        }
      }
    }
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
    }
    return new Run(p.exitValue(), out.toString(), Files.readString(errFile));
  }

  static String kubectlOk(String... command) throws IOException, InterruptedException {
    ExecResult r = k3s.execInContainer(command);
    if (r.getExitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (" + r.getExitCode() + "): " + r.getStderr());
    }
    return r.getStdout();
  }
}
