package dev.mirrord.jvm.protocol;

import java.util.List;
import java.util.Objects;

/**
 * HTTP-filtered incoming traffic (since {@link #SINCE}): a client steals (or mirrors) only the HTTP
 * requests of a port that its {@link Filter} matches; the target's own server keeps every other
 * request.
 *
 * <p>The client subscribes with {@link SubscribeFiltered} (answered by {@link
 * Tcp.PortSubscribeResult}). Each matched request arrives as {@link Request} under a fresh stream id
 * (the id space of stolen connections, {@link Tcp#STEAL_ID_BIT}), its body as {@link Tcp.Data}
 * chunks and its end as {@link BodyEnd} (unless the head said {@code endOfStream}). The client
 * answers with {@link Response}, {@code Tcp.Data} and {@code BodyEnd} under the same id. {@link
 * Tcp.Flow} pauses a stream's body either way, {@code Tcp.Close(streamId, true)} aborts it, and
 * {@code Tcp.Close(connectionId)} tells the client that a client connection that carried matched
 * requests ended. A matched {@code Upgrade} (WebSocket) becomes an ordinary stolen connection: {@link
 * Tcp.NewConnection} under the stream id, the request's bytes, then raw bytes both ways.
 */
public final class Http {
  private Http() {}

  /** The first protocol version with this family. */
  public static final ProtocolVersion SINCE = new ProtocolVersion(1, 5);

  /** HTTP versions on the wire (u8). */
  public static final int HTTP_1_0 = 10;

  public static final int HTTP_1_1 = 11;
  public static final int HTTP_2 = 20;

  /** How deep {@link Filter.AllOf}/{@link Filter.AnyOf} may nest on the wire. */
  public static final int MAX_FILTER_DEPTH = 8;

  /** One header (or trailer) field, name with its original case. */
  public record Header(String name, String value) {
    public Header {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
    }

    /** The fields of {@code it} in order (e.g. Netty's {@code HttpHeaders.iteratorCharSequence()}). */
    public static List<Header> listOf(
        java.util.Iterator<? extends java.util.Map.Entry<? extends CharSequence, ? extends CharSequence>> it) {
      if (!it.hasNext()) {
        return List.of();
      }
      List<Header> out = new java.util.ArrayList<>();
      while (it.hasNext()) {
        java.util.Map.Entry<? extends CharSequence, ? extends CharSequence> e = it.next();
        out.add(new Header(e.getKey().toString(), e.getValue().toString()));
      }
      return out;
    }
  }

  /**
   * Which requests a session takes (mirrord's {@code HttpFilter}). Regexes are Java regexes, matched
   * case-insensitively and anywhere in the text ({@code find}): {@link Header} against every header
   * written {@code Name: value}, {@link Path} against the path and then the path with its query;
   * {@link Method} is the method name, case-insensitive.
   */
  public sealed interface Filter permits Filter.Header, Filter.Path, Filter.Method, Filter.AllOf, Filter.AnyOf {
    record Header(String regex) implements Filter {
      public Header {
        Objects.requireNonNull(regex, "regex");
      }
    }

    record Path(String regex) implements Filter {
      public Path {
        Objects.requireNonNull(regex, "regex");
      }
    }

    record Method(String method) implements Filter {
      public Method {
        Objects.requireNonNull(method, "method");
      }
    }

    /** Every one of {@code filters} matches (never empty). */
    record AllOf(List<Filter> filters) implements Filter {
      public AllOf {
        filters = nonEmpty(filters, "all_of");
      }
    }

    /** At least one of {@code filters} matches (never empty). */
    record AnyOf(List<Filter> filters) implements Filter {
      public AnyOf {
        filters = nonEmpty(filters, "any_of");
      }
    }

    private static List<Filter> nonEmpty(List<Filter> filters, String what) {
      if (filters == null || filters.isEmpty()) {
        throw new IllegalArgumentException(what + " needs at least one filter");
      }
      return List.copyOf(filters);
    }
  }

  /** Steal ({@link IncomingMode#STEAL}) or mirror only the requests to {@code port} that {@code filter} matches. */
  public record SubscribeFiltered(int port, IncomingMode mode, Filter filter) implements ClientMessage {
    public SubscribeFiltered {
      Tcp.checkPort(port);
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(filter, "filter");
    }
  }

  /**
   * A matched request. {@code connectionId} names the client's connection (several requests of a
   * keep-alive connection share it), {@code source*} the real client. For HTTP/2, {@code headers}
   * starts with the pseudo-headers ({@code :method}, {@code :scheme}, {@code :authority}, {@code
   * :path}).
   */
  public record Request(
      long streamId,
      long connectionId,
      int targetPort,
      String sourceAddress,
      int sourcePort,
      int version,
      String method,
      String uri,
      List<Header> headers,
      boolean endOfStream)
      implements AgentMessage {
    public Request {
      Tcp.checkPort(targetPort);
      checkVersion(version);
      headers = List.copyOf(headers);
    }
  }

  /** The app's answer to the request {@code streamId}; for HTTP/2 {@code reason} is empty. */
  public record Response(
      long streamId, int version, int status, String reason, List<Header> headers, boolean endOfStream)
      implements ClientMessage {
    public Response {
      checkVersion(version);
      if (status < 100 || status > 999) {
        throw new IllegalArgumentException("bad HTTP status " + status);
      }
      headers = List.copyOf(headers);
    }
  }

  /** The end of a request's or response's body, with its trailers (possibly none). */
  public record BodyEnd(long streamId, List<Header> trailers) implements ClientMessage, AgentMessage {
    public BodyEnd {
      trailers = List.copyOf(trailers);
    }
  }

  static void checkVersion(int version) {
    if (version != HTTP_1_0 && version != HTTP_1_1 && version != HTTP_2) {
      throw new IllegalArgumentException("unknown HTTP version code " + version);
    }
  }
}
