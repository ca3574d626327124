package dev.mirrord.jvm.cli.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.mirrord.jvm.protocol.Http;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code incoming.http_filter}, with mirrord's names: steal (or mirror) only the HTTP requests that
 * match; the target's own server keeps the rest. Exactly one of {@code header_filter}, {@code
 * path_filter}, {@code method_filter}, {@code all_of}, {@code any_of}; {@code ports} limits the
 * filter to those target ports (absent: every stolen port; the others are stolen whole). Regexes
 * are Java regexes, matched case-insensitively anywhere in the text (mirrord: Rust's {@code
 * fancy_regex}; see README for the differences).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HttpFilterConfig(
    @JsonProperty("header_filter") String headerFilter,
    @JsonProperty("path_filter") String pathFilter,
    @JsonProperty("method_filter") String methodFilter,
    @JsonProperty("all_of") List<InnerFilter> allOf,
    @JsonProperty("any_of") List<InnerFilter> anyOf,
    @JsonProperty("ports") List<Integer> ports) {

  /** One entry of {@code all_of}/{@code any_of}: exactly one of header, path, method. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record InnerFilter(
      @JsonProperty("header") String header,
      @JsonProperty("path") String path,
      @JsonProperty("method") String method) {}

  /** Whether any filter is set (an object with only {@code ports} filters nothing). */
  public boolean isSet() {
    return headerFilter != null || pathFilter != null || methodFilter != null || allOf != null || anyOf != null;
  }

  /** The target ports the filter applies to; empty means every stolen port. */
  public Set<Integer> portSet() {
    return ports == null ? Set.of() : Set.copyOf(ports);
  }

  /**
   * Checks the filter and builds its wire form.
   *
   * @param key the config key it came from (e.g. {@code incoming.http_filter}), for messages
   * @throws IllegalArgumentException naming the key (and the regex's error)
   */
  public Http.Filter toFilter(String key) {
    List<String> set = new ArrayList<>();
    if (headerFilter != null) set.add("header_filter");
    if (pathFilter != null) set.add("path_filter");
    if (methodFilter != null) set.add("method_filter");
    if (allOf != null) set.add("all_of");
    if (anyOf != null) set.add("any_of");
    if (set.size() != 1) {
      throw new IllegalArgumentException(key + (set.isEmpty() ? ": no filter set" : ": " + set + " are all set")
          + "; set exactly one of header_filter, path_filter, method_filter, all_of, any_of (combine with all_of)");
    }
    if (ports != null) {
      for (Integer p : ports) {
        if (p == null || p < 1 || p > 65535) {
          throw new IllegalArgumentException(key + ".ports: " + p + " (ports are 1-65535)");
        }
      }
    }
    if (headerFilter != null) {
      return new Http.Filter.Header(regex(headerFilter, key + ".header_filter"));
    } else if (pathFilter != null) {
      return new Http.Filter.Path(regex(pathFilter, key + ".path_filter"));
    } else if (methodFilter != null) {
      return new Http.Filter.Method(method(methodFilter, key + ".method_filter"));
    } else if (allOf != null) {
      return new Http.Filter.AllOf(inner(allOf, key + ".all_of"));
    }
    return new Http.Filter.AnyOf(inner(anyOf, key + ".any_of"));
  }

  private static List<Http.Filter> inner(List<InnerFilter> list, String key) {
    if (list.isEmpty()) {
      throw new IllegalArgumentException(key + ": empty (give at least one {\"header\": …}, {\"path\": …} or"
          + " {\"method\": …})");
    }
    List<Http.Filter> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      InnerFilter f = list.get(i);
      String at = key + "[" + i + "]";
      int n = f == null ? 0 : (f.header() != null ? 1 : 0) + (f.path() != null ? 1 : 0) + (f.method() != null ? 1 : 0);
      if (n != 1) {
        throw new IllegalArgumentException(at + ": set exactly one of header, path, method");
      }
      out.add(f.header() != null ? new Http.Filter.Header(regex(f.header(), at + ".header"))
          : f.path() != null ? new Http.Filter.Path(regex(f.path(), at + ".path"))
          : new Http.Filter.Method(method(f.method(), at + ".method")));
    }
    return out;
  }

  /** {@code regex} if Java compiles it (as the agent will: case-insensitively). */
  static String regex(String regex, String key) {
    try {
      Pattern.compile(regex, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
      return regex;
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(key + ": '" + regex + "' is not a valid regex (" + e.getDescription()
          + " near index " + e.getIndex() + ")");
    }
  }

  private static String method(String method, String key) {
    if (!method.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
      throw new IllegalArgumentException(key + ": '" + method + "' is not an HTTP method");
    }
    return method;
  }
}
