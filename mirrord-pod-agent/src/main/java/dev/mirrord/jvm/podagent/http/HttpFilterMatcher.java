package dev.mirrord.jvm.podagent.http;

import dev.mirrord.jvm.protocol.Http;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A compiled {@link Http.Filter}: mirrord's matching rules with Java regexes. Regexes match
 * case-insensitively and anywhere in the text ({@link java.util.regex.Matcher#find}); a header
 * filter is tried against each header written {@code Name: value}, a path filter against the path
 * and then the path with its query, a method filter equals the method ignoring case. Immutable and
 * thread-safe.
 */
public final class HttpFilterMatcher {
  private final Node root;
  private final String description;

  private HttpFilterMatcher(Node root, String description) {
    this.root = root;
    this.description = description;
  }

  /**
   * Compiles {@code filter}.
   *
   * @throws IllegalArgumentException for a regex Java cannot compile, naming it
   */
  public static HttpFilterMatcher compile(Http.Filter filter) {
    return new HttpFilterMatcher(node(filter), describe(filter));
  }

  /** The request's parts a filter looks at. */
  public interface RequestView {
    String method();

    /** The request target as sent: {@code /path?query} (or an absolute URI). */
    String uri();

    /** Headers in order (HTTP/2: without pseudo-headers). */
    Iterable<Map.Entry<String, String>> headers();
  }

  public boolean matches(RequestView request) {
    return root.matches(new Cache(request));
  }

  /** The filter in mirrord's terms, for logs. */
  @Override
  public String toString() {
    return description;
  }

  private interface Node {
    boolean matches(Cache r);
  }

  /** The request's derived texts, computed once per request however many filters look at them. */
  private static final class Cache {
    final RequestView request;
    List<String> headerLines;
    String path;
    String pathAndQuery;

    Cache(RequestView request) {
      this.request = request;
    }

    List<String> headerLines() {
      if (headerLines == null) {
        headerLines = new ArrayList<>();
        for (Map.Entry<String, String> h : request.headers()) {
          headerLines.add(h.getKey() + ": " + h.getValue());
        }
      }
      return headerLines;
    }

    String pathAndQuery() {
      if (pathAndQuery == null) {
        String uri = request.uri();
        // An absolute-form target (proxies): keep from the first '/' after the authority.
        int scheme = uri.indexOf("://");
        if (scheme >= 0) {
          int slash = uri.indexOf('/', scheme + 3);
          uri = slash >= 0 ? uri.substring(slash) : "/";
        }
        int hash = uri.indexOf('#');
        pathAndQuery = hash >= 0 ? uri.substring(0, hash) : uri;
      }
      return pathAndQuery;
    }

    String path() {
      if (path == null) {
        String pq = pathAndQuery();
        int q = pq.indexOf('?');
        path = q >= 0 ? pq.substring(0, q) : pq;
      }
      return path;
    }
  }

  private static Node node(Http.Filter f) {
    if (f instanceof Http.Filter.Header h) {
      Pattern p = regex(h.regex(), "header_filter");
      return r -> {
        for (String line : r.headerLines()) {
          if (p.matcher(line).find()) {
            return true;
          }
        }
        return false;
      };
    } else if (f instanceof Http.Filter.Path p) {
      Pattern re = regex(p.regex(), "path_filter");
      return r -> re.matcher(r.path()).find() || re.matcher(r.pathAndQuery()).find();
    } else if (f instanceof Http.Filter.Method m) {
      String method = m.method();
      return r -> r.request.method().equalsIgnoreCase(method);
    } else if (f instanceof Http.Filter.AllOf a) {
      List<Node> nodes = a.filters().stream().map(HttpFilterMatcher::node).toList();
      return r -> nodes.stream().allMatch(n -> n.matches(r));
    } else if (f instanceof Http.Filter.AnyOf a) {
      List<Node> nodes = a.filters().stream().map(HttpFilterMatcher::node).toList();
      return r -> nodes.stream().anyMatch(n -> n.matches(r));
    }
    throw new IllegalArgumentException("unknown filter " + f);
  }

  /**
   * {@code regex} compiled case-insensitively (Unicode case folding too, as Rust's {@code (?i)}).
   *
   * @throws IllegalArgumentException naming {@code key} and the regex's error
   */
  public static Pattern regex(String regex, String key) {
    try {
      return Pattern.compile(regex, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          key + " '" + regex + "' is not a valid regex: " + e.getDescription() + " near index " + e.getIndex());
    }
  }

  /** mirrord's config terms: {@code header_filter(...)}, {@code all_of[...]}. */
  public static String describe(Http.Filter f) {
    if (f instanceof Http.Filter.Header h) {
      return "header_filter(" + h.regex() + ")";
    } else if (f instanceof Http.Filter.Path p) {
      return "path_filter(" + p.regex() + ")";
    } else if (f instanceof Http.Filter.Method m) {
      return "method_filter(" + m.method().toUpperCase(Locale.ROOT) + ")";
    } else if (f instanceof Http.Filter.AllOf a) {
      return "all_of" + a.filters().stream().map(HttpFilterMatcher::describe).toList();
    } else if (f instanceof Http.Filter.AnyOf a) {
      return "any_of" + a.filters().stream().map(HttpFilterMatcher::describe).toList();
    }
    return String.valueOf(f);
  }
}
