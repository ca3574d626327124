package dev.mirrord.jvm.cli.kube;

import static dev.mirrord.jvm.cli.kube.KubeFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.CliRun;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.FakePodAgent;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mirrord exec --pod-name web-1} through the whole CLI (kubeconfig, launcher, session proxy,
 * handshake, environment import, the user's command, clean-up) against the mock API server. Only
 * what a cluster would do is simulated: a "Job controller" thread turns the agent Job into a running
 * pod, the pod log holds the ready line, and the "port-forward" starts an in-process {@link
 * FakePodAgent} with the token it reads from the Job's environment, as the real agent would get it.
 */
@EnableKubernetesMockClient(crud = true)
class KubeExecFlowTest {
  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;

  final List<String> forwards = new CopyOnWriteArrayList<>();
  volatile FakePodAgent agent;
  volatile boolean controllerRunning = true;
  /** When set, the "API server" refuses the port-forward: nothing listens, and this is the error. */
  volatile Throwable refuseForward;

  @AfterEach
  void stop() {
    controllerRunning = false;
    if (agent != null) {
      agent.close();
    }
  }

  /** Creates the pod of every agent Job, Running, as the Job controller and kubelet would. */
  void startJobController() {
    Thread.ofPlatform().daemon().start(() -> {
      while (controllerRunning) {
        for (Job job : client.batch().v1().jobs().inNamespace("shop").list().getItems()) {
          String pod = job.getMetadata().getName() + "-q7x2z";
          if (client.pods().inNamespace("shop").withName(pod).get() == null) {
            client.resource(
                    new PodBuilder()
                        .withNewMetadata().withName(pod).withNamespace("shop").withLabels(job.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
                        .withSpec(job.getSpec().getTemplate().getSpec())
                        .withNewStatus().withPhase("Running")
                        .withContainerStatuses(new ContainerStatusBuilder().withName("mirrord-agent").withNewState().withNewRunning().endRunning().endState().build())
                        .endStatus()
                        .build())
                .create();
          }
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  KubernetesAgentLauncher.Forward forward(KubernetesClient kube, String ns, String pod, int port) throws IOException {
    forwards.add(ns + "/" + pod + ":" + port);
    if (refuseForward != null) {
      return new KubernetesAgentLauncher.Forward() {
        @Override
        public SocketAddress localAddress() {
          return UnixDomainSocketAddress.of(tmp.resolve("nothing-listens.sock"));
        }

        @Override
        public List<Throwable> errors() {
          return List.of(refuseForward);
        }

        @Override
        public void close() {
          forwards.add("closed");
        }
      };
    }
    Job job = kube.batch().v1().jobs().inNamespace(ns).list().getItems().get(0);
    String token =
        job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
            .filter(e -> e.getName().equals("MIRRORD_AGENT_TOKEN"))
            .map(EnvVar::getValue)
            .findFirst()
            .orElseThrow();
    Path socket = tmp.resolve("forward.sock");
    agent = FakePodAgent.start(socket, token, 4242, ProtocolVersion.CURRENT, FakePodAgent.TARGET_ENV);
    return new KubernetesAgentLauncher.Forward() {
      @Override
      public SocketAddress localAddress() {
        return UnixDomainSocketAddress.of(socket);
      }

      @Override
      public void close() {
        forwards.add("closed");
      }
    };
  }

  CliEnvironment env() throws IOException {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv("PATH"));
    env.put("HOME", tmp.toString());
    env.put("KUBECONFIG", kubeconfig(tmp, client.getMasterUrl().toString(), "shop").toString());
    env.put("MIRRORD_LAYER_JAR", Files.writeString(tmp.resolve("dummy-layer.jar"), "dummy").toString());
    env.put("MIRRORD_LOG_FILE", tmp.resolve("cli.log").toString());
    return CliEnvironment.system()
        .withEnv(env)
        .withSystemProperties(Map.of())
        .withTmpDir(tmp)
        .withForwardSignals(false)
        .withAgentLaunchers(
            new CliEnvironment.AgentLaunchers() {
              @Override
              public AgentLauncher forTarget(TargetSpec target, CliEnvironment environment) {
                throw new AssertionError("the command must pass its config");
              }

              @Override
              public AgentLauncher forTarget(
                  TargetSpec target, CliEnvironment environment, MirrordConfig config, UserNotices notices) {
                return new KubernetesAgentLauncher(
                    () -> KubeClientFactory.connect(environment.env(), config.context(), config.namespace()),
                    new KubernetesAgentLauncher.Settings(target, config.agent(), "tester@host", Duration.ofMillis(50)),
                    notices,
                    (kube, ns, pod, container) -> "MIRRORD_AGENT_READY tcp:127.0.0.1:41234\n",
                    KubeExecFlowTest.this::forward);
              }
            });
  }

  @Test
  void execOnAPodRunsTheCommandWithThePodsEnvironmentThenDeletesTheJob() throws IOException {
    create(client, runningPod("shop", "web-1", "app"));
    startJobController();
    Path out = tmp.resolve("child.out");

    CliRun r =
        CliRun.run(
            env(), "exec", "--pod-name", "web-1", "--no-outgoing", "--",
            "bash", "-c", "echo \"FAKE=$FAKE_POD_VAR\" > " + out + "; exit 3");

    assertThat(r.code()).as(r.err()).isEqualTo(3);
    assertThat(Files.readString(out)).isEqualTo("FAKE=from-target\n");
    assertThat(r.errLines())
        .filteredOn(l -> !l.startsWith("mirrord: warning: "))
        .hasSize(4)
        .satisfiesExactly(
            l -> assertThat(l).startsWith("mirrord: resolved pod/web-1/container/app in namespace shop on node node-1 ("),
            l -> assertThat(l).startsWith("mirrord: started the agent (job/mirrord-agent-"),
            l -> assertThat(l).startsWith("mirrord: agent ready in pod mirrord-agent-").contains("listening on 41234"),
            l -> assertThat(l).startsWith("mirrord: port-forward " + tmp.resolve("forward.sock") + " -> pod/web-1:41234 ("));
    assertThat(forwards).containsExactly("shop/web-1:41234", "closed");
    assertThat(client.batch().v1().jobs().inNamespace("shop").list().getItems()).isEmpty();
    assertThat(r.errLines()).contains(
        "mirrord: warning: agent.image is not set; trying ghcr.io/mirrord-jvm/mirrord-pod-agent:latest, which is not published yet: build mirrord-pod-agent/Dockerfile, push it and set agent.image (or MIRRORD_AGENT_IMAGE)");
  }

  @Test
  void refusedPortForwardIsOneRbacLineAndTheJobIsDeleted() throws IOException {
    create(client, runningPod("shop", "web-1", "app"));
    startJobController();
    refuseForward =
        new io.fabric8.kubernetes.client.KubernetesClientException(
            new io.fabric8.kubernetes.api.model.StatusBuilder().withCode(403).withReason("Forbidden").build());

    CliRun r = CliRun.run(env(), "exec", "--pod-name", "web-1", "--no-outgoing", "--", "bash", "-c", "exit 0");

    assertThat(r.code()).as(r.err()).isEqualTo(4);
    assertThat(r.errLines()).last().isEqualTo(
        "mirrord: error: the Kubernetes API forbids you to create pods/portforward in namespace shop; ask your cluster admin for that RBAC permission (check: kubectl auth can-i create pods/portforward -n shop)");
    assertThat(r.errLines()).filteredOn(l -> l.startsWith("mirrord: error: ")).hasSize(1);
    assertThat(client.batch().v1().jobs().inNamespace("shop").list().getItems()).isEmpty();
  }
}
