package dev.mirrord.jvm.podagent.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.protocol.Http;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** mirrord's filter semantics: header lines, path then path+query, method, all_of/any_of, case. */
class HttpFilterMatcherTest {
  private static HttpFilterMatcher.RequestView req(String method, String uri, String... headers) {
    List<Map.Entry<String, String>> hs = new java.util.ArrayList<>();
    for (int i = 0; i < headers.length; i += 2) {
      hs.add(Map.entry(headers[i], headers[i + 1]));
    }
    return new HttpFilterMatcher.RequestView() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String uri() {
        return uri;
      }

      @Override
      public Iterable<Map.Entry<String, String>> headers() {
        return hs;
      }
    };
  }

  private static boolean matches(Http.Filter f, HttpFilterMatcher.RequestView r) {
    return HttpFilterMatcher.compile(f).matches(r);
  }

  @Test
  void aHeaderFilterMatchesAnyHeaderWrittenNameColonValueIgnoringCase() {
    Http.Filter f = new Http.Filter.Header("^x-dev: alice$");
    assertThat(matches(f, req("GET", "/", "Host", "pod", "X-Dev", "alice"))).isTrue();
    assertThat(matches(f, req("GET", "/", "x-dev", "ALICE"))).isTrue();
    assertThat(matches(f, req("GET", "/", "X-Dev", "alice2"))).isFalse();
    assertThat(matches(f, req("GET", "/", "X-Other", "x-dev: alice"))).isFalse();
    assertThat(matches(f, req("GET", "/x-dev: alice"))).isFalse();
    // found anywhere in the line, as fancy_regex's is_match
    assertThat(matches(new Http.Filter.Header("mirrord-session=42"),
        req("GET", "/", "baggage", "k=v,mirrord-session=42"))).isTrue();
  }

  @Test
  void aPathFilterMatchesThePathThenThePathWithItsQuery() {
    assertThat(matches(new Http.Filter.Path("^/api/v1$"), req("GET", "/api/v1?x=1"))).isTrue();
    assertThat(matches(new Http.Filter.Path("x=1$"), req("GET", "/api/v1?x=1"))).isTrue();
    assertThat(matches(new Http.Filter.Path("^/API"), req("GET", "/api/v1"))).isTrue();
    assertThat(matches(new Http.Filter.Path("^/api/v2"), req("GET", "/api/v1?next=/api/v2"))).isFalse();
    assertThat(matches(new Http.Filter.Path("^/api$"), req("GET", "http://pod:8080/api"))).isTrue();
  }

  @Test
  void aMethodFilterIgnoresCase() {
    assertThat(matches(new Http.Filter.Method("post"), req("POST", "/"))).isTrue();
    assertThat(matches(new Http.Filter.Method("POST"), req("GET", "/"))).isFalse();
  }

  @Test
  void allOfNeedsEveryFilterAnyOfOne() {
    Http.Filter all = new Http.Filter.AllOf(List.of(new Http.Filter.Header("x-dev: a"),
        new Http.Filter.Path("^/v1"), new Http.Filter.Method("GET")));
    assertThat(matches(all, req("GET", "/v1/x", "X-Dev", "a"))).isTrue();
    assertThat(matches(all, req("POST", "/v1/x", "X-Dev", "a"))).isFalse();
    assertThat(matches(all, req("GET", "/v2", "X-Dev", "a"))).isFalse();
    Http.Filter any = new Http.Filter.AnyOf(List.of(new Http.Filter.Header("x-dev: a"), new Http.Filter.Path("^/v1")));
    assertThat(matches(any, req("GET", "/v1"))).isTrue();
    assertThat(matches(any, req("GET", "/v2", "X-Dev", "a"))).isTrue();
    assertThat(matches(any, req("GET", "/v2", "X-Dev", "b"))).isFalse();
    Http.Filter nested = new Http.Filter.AnyOf(List.of(all, new Http.Filter.Method("DELETE")));
    assertThat(matches(nested, req("DELETE", "/"))).isTrue();
  }

  @Test
  void aBadRegexIsAnErrorNamingTheKeyAndTheRegex() {
    assertThatThrownBy(() -> HttpFilterMatcher.compile(new Http.Filter.Header("x-dev: (alice")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("header_filter")
        .hasMessageContaining("(alice");
    assertThat(HttpFilterMatcher.compile(new Http.Filter.AllOf(List.of(new Http.Filter.Path("/a"),
        new Http.Filter.Method("get")))).toString()).isEqualTo("all_of[path_filter(/a), method_filter(GET)]");
  }
}
