package dev.mirrord.jvm.cli.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CloseNamesTest {

  @Test
  void typosAndPrefixesAreCloseUnrelatedNamesAreNot() {
    List<String> all = List.of("web-7d9f", "web-api", "payments", "postgres-0", "redis");

    assertThat(CloseNames.closest("wbe-api", all, 3)).containsExactly("web-api");
    assertThat(CloseNames.closest("web", all, 3)).containsExactly("web-api", "web-7d9f");
    assertThat(CloseNames.closest("postgres", all, 3)).containsExactly("postgres-0");
    assertThat(CloseNames.closest("kafka", all, 3)).isEmpty();
  }

  @Test
  void distanceIsLevenshtein() {
    assertThat(CloseNames.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(CloseNames.distance("", "abc")).isEqualTo(3);
    assertThat(CloseNames.distance("same", "same")).isZero();
  }
}
