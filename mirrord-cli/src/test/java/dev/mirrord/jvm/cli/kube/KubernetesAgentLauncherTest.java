package dev.mirrord.jvm.cli.kube;

import static dev.mirrord.jvm.cli.kube.KubeFixtures.*;
import static dev.mirrord.jvm.cli.kube.KubeTargetsTest.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.launch.AgentRequest;
import dev.mirrord.jvm.cli.launch.RunningAgent;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's steps against the mock API server: the Job is created, the wait ends on the
 * agent's ready line or on a failure state, the port-forward targets the right pod and port, and
 * the Job is deleted on close and after every failed start. Logs and port-forward are fakes (the
 * CRUD mock serves neither).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesAgentLauncherTest {
  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;

  final StringWriter err = new StringWriter();
  final List<String> forwards = new ArrayList<>();
  final List<Throwable> forwardErrors = new ArrayList<>();
  String agentLog = "mirrord-agent: starting\nMIRRORD_AGENT_READY tcp:127.0.0.1:41234\n";

  static final String SESSION = "abc123";
  static final String JOB = "mirrord-agent-abc123";

  @BeforeEach
  void setUp() {
    create(client, runningPod("shop", "web-1", "app"));
  }

  KubernetesAgentLauncher launcher(String target, MirrordConfig.Agent agent) {
    return new KubernetesAgentLauncher(
        () -> new KubeClientFactory.Connection(new KubernetesClientBuilder().withConfig(client.getConfiguration()).build(), "shop", "test"),
        new KubernetesAgentLauncher.Settings(TargetSpec.parse(target), agent, "ann@laptop", Duration.ofMillis(50)),
        new UserNotices(new PrintWriter(err, true)),
        (kube, ns, pod, container) -> agentLog,
        (kube, ns, pod, port) -> {
          forwards.add(ns + "/" + pod + ":" + port);
          return new KubernetesAgentLauncher.Forward() {
            @Override
            public SocketAddress localAddress() {
              return new InetSocketAddress("127.0.0.1", 40000);
            }

            @Override
            public List<Throwable> errors() {
              return forwardErrors;
            }

            @Override
            public void close() {
              forwards.add("closed");
            }
          };
        });
  }

  static MirrordConfig.Agent agent(int timeout, boolean ephemeral) {
    return new MirrordConfig.Agent("registry.example/agent:1", null, timeout, ephemeral);
  }

  AgentRequest request() {
    return new AgentRequest(
        TargetSpec.parse("pod/web-1"), tmp.resolve("mirrord-" + SESSION).resolve("agent.sock"), "s3cret", tmp.resolve("agent.log"), false);
  }

  /** What the Job controller would create: the agent pod, with the session label, in {@code state}. */
  Pod agentPod(ContainerStatusBuilder state) {
    return new PodBuilder()
        .withNewMetadata().withName(JOB + "-x7k2p").withNamespace("shop").withLabels(Map.of(AgentLabels.SESSION, SESSION)).endMetadata()
        .withNewSpec().withNodeName("node-1").addNewContainer().withName("mirrord-agent").withImage("registry.example/agent:1").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withContainerStatuses(state.withName("mirrord-agent").build()).endStatus()
        .build();
  }

  static ContainerStatusBuilder running() {
    return new ContainerStatusBuilder().withNewState().withNewRunning().endRunning().endState();
  }

  Job job() {
    return client.batch().v1().jobs().inNamespace("shop").withName(JOB).get();
  }

  @Test
  void startsTheJobWaitsForTheReadyLineAndForwardsToTheTargetPod() throws InterruptedException {
    create(client, agentPod(running()));

    RunningAgent agent = launcher("pod/web-1", agent(5, false)).launch(request());

    assertThat(agent.address()).isEqualTo(new InetSocketAddress("127.0.0.1", 40000));
    assertThat(agent.logHint()).isEqualTo("kubectl logs mirrord-agent-abc123-x7k2p -c mirrord-agent -n shop");
    assertThat(forwards).containsExactly("shop/web-1:41234");
    Job job = job();
    assertThat(job).isNotNull();
    assertThat(job.getSpec().getTemplate().getSpec().getNodeName()).isEqualTo("node-1");
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .startsWith("--container-id", containerId("web-1/app"));
    List<String> lines = err.toString().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).matches("mirrord: resolved pod/web-1/container/app in namespace shop on node node-1 \\(\\d+\\.\\d s\\)");
    assertThat(lines.get(1)).matches("mirrord: started the agent \\(job/mirrord-agent-abc123 in namespace shop, image registry.example/agent:1\\) \\(\\d+\\.\\d s\\)");
    assertThat(lines.get(2)).matches("mirrord: agent ready in pod mirrord-agent-abc123-x7k2p, listening on 41234 \\(\\d+\\.\\d s\\)");
    assertThat(lines.get(3)).matches("mirrord: port-forward 127.0.0.1:40000 -> pod/web-1:41234 \\(\\d+\\.\\d s\\)");

    agent.close();

    var delete = server.getLastRequest();
    assertThat(delete.getMethod()).isEqualTo("DELETE");
    assertThat(delete.getPath()).isEqualTo("/apis/batch/v1/namespaces/shop/jobs/mirrord-agent-abc123");
    assertThat(delete.getBody().readUtf8()).contains("\"propagationPolicy\":\"Background\"");
    assertThat(job()).isNull();
    assertThat(forwards).endsWith("closed");
    agent.close(); // idempotent
    assertThat(server.getLastRequest().getPath()).isEqualTo(delete.getPath());
  }

  @Test
  void refusedPortForwardExplainsAFailedHandshake() {
    create(client, agentPod(running()));
    RunningAgent agent = launcher("pod/web-1", agent(5, false)).launch(request());
    var bare = new dev.mirrord.jvm.cli.MirrordException(ExitCode.AGENT_FAILED, "cannot connect to the mirrord agent");
    try {
      assertThat(agent.explain(bare)).isSameAs(bare);

      forwardErrors.add(new java.io.IOException("connection reset"));
      assertThat(agent.explain(bare))
          .satisfies(e -> assertThat(e.exitCode()).isEqualTo(ExitCode.AGENT_FAILED))
          .hasMessage("the port-forward to pod/web-1:41234 failed (connection reset); check that the pod still runs and see kubectl logs mirrord-agent-abc123-x7k2p -c mirrord-agent -n shop");

      forwardErrors.add(
          new io.fabric8.kubernetes.client.KubernetesClientException(
              new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("pods \"web-1\" is forbidden").build()));
      assertThat(agent.explain(bare))
          .satisfies(e -> assertThat(e.exitCode()).isEqualTo(ExitCode.NOT_PERMITTED))
          .hasMessage("the Kubernetes API forbids you to create pods/portforward in namespace shop; ask your cluster admin for that RBAC permission (check: kubectl auth can-i create pods/portforward -n shop)");
    } finally {
      agent.close();
    }
  }

  @Test
  void agentNamespaceFromConfigHoldsTheJob() {
    RunningAgent agent = null;
    try {
      client.resource(agentPod(running()).edit().editMetadata().withNamespace("mirrord").endMetadata().build()).create();
      agent = launcher("pod/web-1", new MirrordConfig.Agent("img", "mirrord", 5, false)).launch(request());
      assertThat(client.batch().v1().jobs().inNamespace("mirrord").withName(JOB).get()).isNotNull();
      assertThat(forwards).containsExactly("shop/web-1:41234"); // still forwarded to the target pod
    } finally {
      if (agent != null) {
        agent.close();
      }
    }
    assertThat(client.batch().v1().jobs().inNamespace("mirrord").withName(JOB).get()).isNull();
  }

  @Test
  void imagePullFailureEndsTheWaitAtOnceAndDeletesTheJob() {
    create(client, agentPod(new ContainerStatusBuilder().withNewState().withNewWaiting().withReason("ImagePullBackOff")
        .withMessage("Back-off pulling image \"registry.example/agent:1\"").endWaiting().endState()));

    expectError(() -> launcher("pod/web-1", agent(30, false)).launch(request()), ExitCode.AGENT_FAILED,
        "cannot pull the agent image registry.example/agent:1 (ImagePullBackOff: Back-off pulling image \"registry.example/agent:1\"); push the image to a registry the cluster can pull from and set agent.image");
    assertThat(job()).isNull();
  }

  @Test
  void agentThatNeverGetsReadyTimesOutAndDeletesTheJob() {
    long t0 = System.nanoTime();
    expectError(() -> launcher("pod/web-1", agent(1, false)).launch(request()), ExitCode.AGENT_FAILED,
        "the agent was not ready within 1 s (not created yet); raise agent.startup_timeout, or check kubectl get pods -l mirrord.dev/session=abc123 -n shop");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(job()).isNull();
  }

  @Test
  void jobWhosePodIsRefusedFailsFastWithTheReason() {
    String refusal =
        "Error creating: pods \"mirrord-agent-abc123-x7k2p\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostPID=true), non-default capabilities (container \"mirrord-agent\" must not include \"NET_ADMIN\", \"NET_RAW\", \"SYS_ADMIN\", \"SYS_PTRACE\" in securityContext.capabilities.add)";
    create(client,
        new io.fabric8.kubernetes.api.model.EventBuilder()
            .withNewMetadata().withName(JOB + ".1").withNamespace("shop").endMetadata()
            .withNewInvolvedObject().withKind("Job").withName(JOB).withNamespace("shop").endInvolvedObject()
            .withType("Warning").withReason("FailedCreate").withMessage(refusal)
            .build());
    long t0 = System.nanoTime();

    expectError(() -> launcher("pod/web-1", agent(30, false)).launch(request()), ExitCode.AGENT_FAILED,
        "the agent Job cannot create its pod (" + refusal + "); the agent needs hostPID and the capabilities NET_ADMIN, NET_RAW, SYS_ADMIN, SYS_PTRACE: set agent.namespace to a namespace whose Pod Security level is privileged, or use --ephemeral");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(job()).isNull();
  }

  @Test
  void agentThatExitsEarlyGivesItsExitCodeMeaningAndLastLogLines() {
    agentLog = "mirrord-agent: no process of container containerd://0123 on this node\n";
    create(client, agentPod(new ContainerStatusBuilder().withNewState().withNewTerminated().withExitCode(3).withReason("Error").endTerminated().endState()));

    expectError(() -> launcher("pod/web-1", agent(30, false)).launch(request()), ExitCode.TARGET_NOT_FOUND,
        "the agent exited with code 3 before it was ready (mirrord-agent: no process of container containerd://0123 on this node); see kubectl logs mirrord-agent-abc123-x7k2p -c mirrord-agent -n shop");
    assertThat(job()).isNull();
  }

  @Test
  void forbiddenJobCreationNamesTheRbacRule() {
    server.expect().post().withPath("/apis/batch/v1/namespaces/shop/jobs")
        .andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden").build()).always();

    expectError(() -> launcher("pod/web-1", agent(5, false)).launch(request()), ExitCode.NOT_PERMITTED,
        "the Kubernetes API forbids you to create jobs in namespace shop; ask your cluster admin for that RBAC permission (check: kubectl auth can-i create jobs -n shop)");
  }

  @Test
  void targetNotFoundCreatesNothing() {
    expectError(() -> launcher("pod/web-2", agent(5, false)).launch(request()), ExitCode.TARGET_NOT_FOUND,
        "pod web-2 not found in namespace shop; did you mean pod/web-1?");
    assertThat(client.batch().v1().jobs().inNamespace("shop").list().getItems()).isEmpty();
  }

  @Test
  void targetlessForwardsToTheAgentsOwnPod() {
    create(client, agentPod(running()));

    RunningAgent agent = launcher("targetless", agent(5, false)).launch(request());

    assertThat(forwards).containsExactly("shop/mirrord-agent-abc123-x7k2p:41234");
    assertThat(job().getSpec().getTemplate().getSpec().getHostPID()).isNull();
    agent.close();
    assertThat(job()).isNull();
  }

  @Test
  void ephemeralPatchesTheTargetPodsEphemeralContainersAndForwardsToIt() {
    // The CRUD mock does not serve the ephemeralcontainers subresource, and no kubelet fills in
    // statuses: expectations answer for the target pod, with the agent already running in it.
    Pod withAgent =
        new PodBuilder(runningPod("shop", "web-1", "app"))
            .editStatus().withEphemeralContainerStatuses(running().withName(JOB).build()).endStatus().build();
    List<String> patches = new ArrayList<>();
    server.expect().get().withPath("/api/v1/namespaces/shop/pods/web-1").andReturn(200, withAgent).always();
    server.expect().patch().withPath("/api/v1/namespaces/shop/pods/web-1/ephemeralcontainers")
        .andReply(200, req -> {
          patches.add(req.getBody().readUtf8());
          return withAgent;
        }).always();

    RunningAgent agent = launcher("pod/web-1", agent(5, true)).launch(request());

    assertThat(patches).singleElement().asString()
        .contains("\"op\":\"add\",\"path\":\"/spec/ephemeralContainers\"", "\"name\":\"" + JOB + "\"", "\"targetContainerName\":\"app\"", "\"--target-pid\"");
    assertThat(forwards).containsExactly("shop/web-1:41234");
    assertThat(job()).isNull();
    assertThat(err.toString()).contains("started the agent (ephemeral container mirrord-agent-abc123 in pod/web-1");
    assertThat(err.toString()).doesNotContain("warning");
    agent.close();
  }

  @Test
  void ephemeralInAPodSharingItsProcessNamespaceWarns() {
    Pod shared =
        new PodBuilder(runningPod("shop", "web-1", "app"))
            .editSpec().withShareProcessNamespace(true).endSpec()
            .editStatus().withEphemeralContainerStatuses(running().withName(JOB).build()).endStatus().build();
    server.expect().get().withPath("/api/v1/namespaces/shop/pods/web-1").andReturn(200, shared).always();
    server.expect().patch().withPath("/api/v1/namespaces/shop/pods/web-1/ephemeralcontainers").andReturn(200, shared).always();

    launcher("pod/web-1", agent(5, true)).launch(request()).close();

    assertThat(err.toString()).contains(
        "mirrord: warning: pod web-1 shares one process namespace: PID 1 there is the pause process, not app, so the environment and DNS files come from the wrong process; drop --ephemeral to use the agent Job");
  }

  @Test
  void ephemeralWithoutATargetIsAUsageError() {
    expectError(() -> launcher("targetless", agent(5, true)).launch(request()), ExitCode.USAGE,
        "--ephemeral needs a target pod; drop --ephemeral for targetless sessions");
  }

  @Test
  void readyPortIsParsedFromTheReadyLine() {
    assertThat(KubernetesAgentLauncher.readyPort("x\nMIRRORD_AGENT_READY tcp:127.0.0.1:5555\n")).isEqualTo(5555);
    assertThat(KubernetesAgentLauncher.readyPort("2026-01-01T00:00:00Z MIRRORD_AGENT_READY tcp:[::1]:7\n")).isEqualTo(7);
    assertThat(KubernetesAgentLauncher.readyPort("starting\n")).isNull();
    assertThat(KubernetesAgentLauncher.readyPort(null)).isNull();
  }
}
