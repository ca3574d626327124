package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EnvFilterTest {

  private static final Map<String, String> TARGET =
      Map.of(
          "DB_URL", "postgres://db",
          "DB_USER", "app",
          "APP_SECRET", "s",
          "LANG", "C.UTF-8",
          "PATH", "/pod/bin",
          "JAVA_TOOL_OPTIONS", "-Dx",
          "MIRRORD_TARGET", "pid/1");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_HOME", "CLASSPATH", "PATH",
        "HOME", "HOSTNAME", "PWD", "MIRRORD_ANYTHING", "MIRRORD_"
      })
  void neverImportsLocalMachineVariablesEvenWhenIncluded(String name) {
    assertThat(new EnvFilter(List.of("*"), List.of()).imports(name)).isFalse();
    assertThat(new EnvFilter(List.of(name), List.of()).imports(name)).isFalse();
  }

  @Test
  void withoutGlobsImportsEverythingElse() {
    assertThat(new EnvFilter(List.of(), List.of()).filter(TARGET))
        .containsOnlyKeys("DB_URL", "DB_USER", "APP_SECRET", "LANG");
  }

  @Test
  void includeKeepsOnlyMatchesAndExcludeWins() {
    EnvFilter f = new EnvFilter(List.of("DB_*", "APP_*"), List.of("*_SECRET", "DB_USE?"));
    assertThat(f.filter(TARGET)).containsExactly(Map.entry("DB_URL", "postgres://db"));
  }

  @Test
  void globsAreLiteralExceptStarAndQuestionMark() {
    assertThat(EnvFilter.globMatches("A.B", "A.B")).isTrue();
    assertThat(EnvFilter.globMatches("A.B", "AxB")).isFalse();
    assertThat(EnvFilter.globMatches("A*", "A")).isTrue();
    assertThat(EnvFilter.globMatches("a*", "A")).isFalse();
    assertThat(EnvFilter.globMatches("[A]", "[A]")).isTrue();
  }
}
