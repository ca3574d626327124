package dev.mirrord.jvm.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.protocol.Http;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code incoming.http_filter}: mirrord's names from the file, the env and the flags; every bad input named. */
class HttpFilterConfigTest {
  @TempDir Path tmp;

  private MirrordConfig load(String json, Map<String, String> env) throws IOException {
    Path f = tmp.resolve("mirrord.json");
    Files.writeString(f, json);
    return new ConfigLoader(env).load(f, MirrordConfig.EMPTY);
  }

  @Test
  void allOfWithPortsFromTheFileBecomesTheWireFilter() throws IOException {
    MirrordConfig cfg = load("""
        {"incoming": {"mode": "steal", "http_filter": {
          "all_of": [{"header": "^x-dev: alice$"}, {"path": "^/api/"}, {"method": "post"}],
          "ports": [8080, 9090]}}}
        """, Map.of());
    HttpFilterConfig f = cfg.incoming().httpFilter();
    assertThat(f.portSet()).containsExactlyInAnyOrder(8080, 9090);
    assertThat(f.toFilter("incoming.http_filter")).isEqualTo(new Http.Filter.AllOf(List.of(
        new Http.Filter.Header("^x-dev: alice$"), new Http.Filter.Path("^/api/"), new Http.Filter.Method("post"))));
  }

  @Test
  void theEnvironmentSetsAHeaderOrPathFilter() throws IOException {
    MirrordConfig cfg = load("{}", Map.of("MIRRORD_HTTP_HEADER_FILTER", "x-dev: bob"));
    assertThat(cfg.incoming().httpFilter().toFilter("x")).isEqualTo(new Http.Filter.Header("x-dev: bob"));
    cfg = load("{\"incoming\": {\"http_filter\": {\"header_filter\": \"a\"}}}",
        Map.of("MIRRORD_HTTP_PATH_FILTER", "^/p"));
    assertThat(cfg.incoming().httpFilter().toFilter("x")).isEqualTo(new Http.Filter.Path("^/p"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"incoming\": {\"http_filter\": {\"header_filter\": \"x-dev: (alice\"}}}|'incoming.http_filter.header_filter'|not a valid regex",
      "{\"incoming\": {\"http_filter\": {\"all_of\": []}}}|'incoming.http_filter.all_of'|empty",
      "{\"incoming\": {\"http_filter\": {\"any_of\": [{\"path\": \"[\"}]}}}|'incoming.http_filter.any_of[0].path'|not a valid regex",
      "{\"incoming\": {\"http_filter\": {\"any_of\": [{\"path\": \"/a\", \"header\": \"b\"}]}}}|'incoming.http_filter.any_of[0]'|exactly one",
      "{\"incoming\": {\"http_filter\": {\"header_filter\": \"a\", \"path_filter\": \"b\"}}}|'incoming.http_filter'|exactly one",
      "{\"incoming\": {\"http_filter\": {\"ports\": [8080]}}}|'incoming.http_filter'|no filter set",
      "{\"incoming\": {\"http_filter\": {\"header_filter\": \"a\", \"ports\": [0]}}}|'incoming.http_filter.ports'|1-65535",
      "{\"incoming\": {\"http_filter\": {\"method_filter\": \"GE T\"}}}|'incoming.http_filter.method_filter'|not an HTTP method"})
  void badFiltersAreConfigErrorsNamingTheKey(String json, String key, String why) {
    assertThatThrownBy(() -> load(json, Map.of()))
        .isInstanceOfSatisfying(MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessageContaining(key)
        .hasMessageContaining(why);
  }

  @Test
  void aBadRegexInTheEnvironmentNamesTheVariable() {
    assertThatThrownBy(() -> load("{}", Map.of("MIRRORD_HTTP_PATH_FILTER", "(")))
        .isInstanceOf(MirrordException.class)
        .hasMessageContaining("MIRRORD_HTTP_PATH_FILTER")
        .hasMessageContaining("not a valid regex");
  }
}
