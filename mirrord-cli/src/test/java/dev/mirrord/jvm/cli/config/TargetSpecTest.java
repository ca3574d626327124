package dev.mirrord.jvm.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TargetSpecTest {

  @Test
  void parsesEveryForm() {
    assertThat(TargetSpec.parse("pid/42")).isEqualTo(new TargetSpec.Pid(42));
    assertThat(TargetSpec.parse("pod/web")).isEqualTo(new TargetSpec.Pod("web", null));
    assertThat(TargetSpec.parse("pod/web/container/app")).isEqualTo(new TargetSpec.Pod("web", "app"));
    assertThat(TargetSpec.parse("deployment/api")).isEqualTo(new TargetSpec.Deployment("api", null));
    assertThat(TargetSpec.parse("deploy/api")).isEqualTo(new TargetSpec.Deployment("api", null));
    assertThat(TargetSpec.parse("pod/web/container/app").describe()).isEqualTo("pod/web/container/app");
    assertThat(TargetSpec.parse("pid/42").isKubernetes()).isFalse();
  }

  @Test
  void parsesStatefulSetsAndTargetless() {
    assertThat(TargetSpec.parse("statefulset/db")).isEqualTo(new TargetSpec.StatefulSet("db", null));
    assertThat(TargetSpec.parse("sts/db/container/pg")).isEqualTo(new TargetSpec.StatefulSet("db", "pg"));
    assertThat(TargetSpec.parse("sts/db/container/pg").describe()).isEqualTo("statefulset/db/container/pg");
    assertThat(TargetSpec.parse(" targetless ")).isEqualTo(new TargetSpec.Targetless());
    assertThat(TargetSpec.parse("targetless").isKubernetes()).isTrue();
    assertThat(TargetSpec.parse("targetless").container()).isNull();
    assertThat(TargetSpec.parse("deploy/api/container/app").container()).isEqualTo("app");
  }

  @Test
  void parsesLocalContainersByNameOrId() {
    assertThat(TargetSpec.parse("container/web")).isEqualTo(new TargetSpec.Container("web"));
    assertThat(TargetSpec.parse("container/shop_api-1.v2").describe()).isEqualTo("container/shop_api-1.v2");
    assertThat(TargetSpec.parse("container/3f4e9c0a1b2d").isKubernetes()).isFalse();
    assertThat(TargetSpec.parse("container/web").container()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"container/", "container/a/b", "container/-x", "container/a b", "container/a:b"})
  void rejectsBadContainerNames(String text) {
    assertThatThrownBy(() -> TargetSpec.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a valid target");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "pid", "pid/", "pid/x", "pid/0", "pod", "pod/", "pod/a/b", "svc/x", "pod/a/container/", "targetless/x", "statefulset/", "sts/a/b"})
  void rejectsBadSyntaxWithTheExpectedForms(String text) {
    assertThatThrownBy(() -> TargetSpec.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a valid target");
  }

  @Test
  void portMappingRoundTrips() {
    assertThat(PortMapping.parse(" 8080:80 ")).isEqualTo(new PortMapping(8080, 80));
    assertThat(new PortMapping(8080, 80)).hasToString("8080:80");
    assertThatThrownBy(() -> PortMapping.parse("8080:0")).hasMessageContaining("1-65535");
    assertThatThrownBy(() -> PortMapping.parse("8080")).hasMessageContaining("LOCAL:REMOTE");
    assertThatThrownBy(() -> PortMapping.parse("1:2:3")).hasMessageContaining("LOCAL:REMOTE");
  }
}
