package dev.mirrord.jvm.cli.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent Job and the ephemeral container have exactly the fields the design needs. */
class AgentJobFactoryTest {

  static final ResolvedTarget TARGET =
      new ResolvedTarget(
          "shop", "web-7d9f", "uid-1234", "node-a", "app", "containerd://" + "ab".repeat(32), List.of());

  static AgentParams params(ResolvedTarget target) {
    return new AgentParams(
        "c0ffee01", "mirrord", target, "registry.example/agent:1", 0, "s3cret", "ann@laptop", 60, 60, 30, false, true, 3);
  }

  static final Map<String, String> LABELS =
      Map.of(
          "app.kubernetes.io/name", "mirrord-agent",
          "app.kubernetes.io/managed-by", "mirrord-jvm",
          "mirrord.dev/session", "c0ffee01");

  @Test
  void jobMetadataNamesTheSessionOwnerAndTarget() {
    Job job = AgentJobFactory.create(params(TARGET));

    assertThat(job.getMetadata().getName()).isEqualTo("mirrord-agent-c0ffee01");
    assertThat(job.getMetadata().getNamespace()).isEqualTo("mirrord");
    assertThat(job.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(LABELS);
    assertThat(job.getMetadata().getAnnotations())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "mirrord.dev/owner", "ann@laptop",
                "mirrord.dev/session", "c0ffee01",
                "mirrord.dev/target", "pod/web-7d9f/container/app in namespace shop",
                "mirrord.dev/target-pod-uid", "uid-1234"));
    assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(LABELS);
  }

  @Test
  void jobRunsOnceAndIsCollectedAfterItEnds() {
    Job job = AgentJobFactory.create(params(TARGET));

    assertThat(job.getSpec().getBackoffLimit()).isZero();
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(30);
    assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
  }

  @Test
  void jobPodIsPinnedToTheTargetsNodeWithHostPidAndToleratesEveryTaint() {
    PodSpec spec = AgentJobFactory.create(params(TARGET)).getSpec().getTemplate().getSpec();

    assertThat(spec.getNodeName()).isEqualTo("node-a");
    assertThat(spec.getHostPID()).isTrue();
    assertThat(spec.getHostNetwork()).isNull();
    assertThat(spec.getTolerations()).hasSize(1);
    assertThat(spec.getTolerations().get(0).getOperator()).isEqualTo("Exists");
    assertThat(spec.getTolerations().get(0).getKey()).isNull();
    assertThat(spec.getTolerations().get(0).getEffect()).isNull();
    assertThat(spec.getAutomountServiceAccountToken()).isFalse();
    assertThat(spec.getContainers()).hasSize(1);
  }

  @Test
  void jobContainerHasTheFourCapabilitiesAndIsNotPrivileged() {
    Container c = AgentJobFactory.create(params(TARGET)).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(c.getName()).isEqualTo("mirrord-agent");
    assertThat(c.getImage()).isEqualTo("registry.example/agent:1");
    assertThat(c.getSecurityContext().getPrivileged()).isFalse();
    assertThat(c.getSecurityContext().getRunAsUser()).isZero();
    assertThat(c.getSecurityContext().getCapabilities().getAdd())
        .containsExactly("NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_PTRACE");
  }

  @Test
  void jobArgsCarryTheContainerIdAndTheTokenTravelsInTheEnvironmentOnly() {
    Container c = AgentJobFactory.create(params(TARGET)).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(c.getArgs())
        .containsExactly(
            "--container-id", "containerd://" + "ab".repeat(32),
            "--listen", "tcp:127.0.0.1:0",
            "--no-stdin",
            "--accept-timeout", "60",
            "--idle-timeout", "60",
            "--session-id", "c0ffee01");
    assertThat(c.getEnv()).extracting(EnvVar::getName, EnvVar::getValue).containsExactly(org.assertj.core.groups.Tuple.tuple("MIRRORD_AGENT_TOKEN", "s3cret"));
    assertThat(String.join(" ", c.getArgs())).doesNotContain("s3cret");
    assertThat(c.getCommand()).isEmpty();
  }

  @Test
  void stealSettingsAndVerbosityBecomeAgentFlags() {
    AgentParams p =
        new AgentParams("c0ffee01", "shop", TARGET, "img", 0, "t", "o", 60, 60, 30, true, false, 7);
    Container c = AgentJobFactory.create(p).getSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(c.getArgs()).endsWith("--no-flush-connections", "--hand-back-grace", "7", "-v");
  }

  @Test
  void targetlessJobIsAnOrdinaryPodServingItsOwnNamespace() {
    Job job = AgentJobFactory.create(params(ResolvedTarget.targetless("shop")));
    PodSpec spec = job.getSpec().getTemplate().getSpec();
    Container c = spec.getContainers().get(0);

    assertThat(spec.getNodeName()).isNull();
    assertThat(spec.getHostPID()).isNull();
    assertThat(spec.getTolerations()).isEmpty();
    assertThat(c.getSecurityContext().getCapabilities().getAdd()).isEmpty();
    assertThat(c.getArgs()).startsWith("--target-pid", "1", "--listen", "tcp:127.0.0.1:0");
    assertThat(job.getMetadata().getAnnotations()).doesNotContainKey("mirrord.dev/target-pod-uid")
        .containsEntry("mirrord.dev/target", "targetless in namespace shop");
  }

  @Test
  void ephemeralContainerJoinsTheTargetContainerAndServesItsPidOne() {
    EphemeralContainer e = EphemeralAgentFactory.create(params(TARGET));

    assertThat(e.getName()).isEqualTo("mirrord-agent-c0ffee01");
    assertThat(e.getImage()).isEqualTo("registry.example/agent:1");
    assertThat(e.getTargetContainerName()).isEqualTo("app");
    assertThat(e.getArgs()).startsWith("--target-pid", "1", "--listen", "tcp:127.0.0.1:0", "--no-stdin");
    assertThat(e.getArgs()).doesNotContain("--container-id");
    assertThat(e.getEnv()).extracting(EnvVar::getName).containsExactly("MIRRORD_AGENT_TOKEN");
    assertThat(e.getSecurityContext().getPrivileged()).isFalse();
    assertThat(e.getSecurityContext().getCapabilities().getAdd())
        .containsExactly("NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_PTRACE");
  }

  @Test
  void ephemeralPatchAppendsTheAgentAndKeepsEverythingElse() {
    Pod pod =
        new PodBuilder()
            .withNewMetadata().withName("web-7d9f").withNamespace("shop").endMetadata()
            .withNewSpec()
            .withContainers(new ContainerBuilder().withName("app").withImage("app:1").build())
            .addNewEphemeralContainer().withName("debugger").withImage("busybox").endEphemeralContainer()
            .endSpec()
            .build();

    Pod patched = EphemeralAgentFactory.withAgent(pod, params(TARGET));

    assertThat(patched.getSpec().getContainers()).isEqualTo(pod.getSpec().getContainers());
    assertThat(patched.getSpec().getEphemeralContainers())
        .extracting(EphemeralContainer::getName)
        .containsExactly("debugger", "mirrord-agent-c0ffee01");
    assertThat(pod.getSpec().getEphemeralContainers()).hasSize(1); // the input is not changed
  }

  @Test
  void ephemeralNeedsATargetPod() {
    assertThatThrownBy(() -> EphemeralAgentFactory.create(params(ResolvedTarget.targetless("shop"))))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
