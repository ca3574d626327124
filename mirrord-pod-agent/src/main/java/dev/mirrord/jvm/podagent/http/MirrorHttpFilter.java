package dev.mirrord.jvm.podagent.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.util.Map;

/**
 * Mirror mode with an HTTP filter, for one sniffed connection: the client's bytes go through the
 * same raw-byte request decoder as filtered steal, and only the original bytes of the requests
 * {@code filter} matches come out, so the app's mirrored connection carries just those requests.
 * An h2c (prior knowledge) connection is told by its preface and goes through {@link
 * MirrorH2Filter} instead: each stream is matched on its own. A connection that turns out not to be
 * HTTP (or sends a request Netty rejects) mirrors nothing from there on. Single-threaded (the
 * sniffer thread).
 */
public final class MirrorHttpFilter implements AutoCloseable {
  private final HttpFilterMatcher filter;
  private final EmbeddedChannel decoder = new EmbeddedChannel(new RawHttpRequestDecoder());
  private final ByteArrayOutputStream pendingHead = new ByteArrayOutputStream();
  private boolean inRequest;
  private boolean matched;
  private boolean broken;
  private int matchedRequests;
  /** The client's first bytes, until they tell HTTP/1 from h2c. */
  private final ByteArrayOutputStream first = new ByteArrayOutputStream();
  private boolean classified;
  private MirrorH2Filter h2;

  public MirrorHttpFilter(HttpFilterMatcher filter) {
    this.filter = filter;
  }

  /** Feeds the client's next bytes; returns the bytes of matched requests among them (often none). */
  public byte[] feed(byte[] bytes) {
    if (!classified) {
      first.writeBytes(bytes);
      ProtocolSniffer.Kind kind = ProtocolSniffer.classify(Unpooled.wrappedBuffer(first.toByteArray()));
      if (kind == null) {
        return new byte[0];
      }
      classified = true;
      bytes = first.toByteArray();
      if (kind == ProtocolSniffer.Kind.H2C) {
        h2 = new MirrorH2Filter(filter);
      }
    }
    if (h2 != null) {
      return h2.feed(bytes);
    }
    if (broken) {
      return new byte[0];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      decoder.writeInbound(Unpooled.wrappedBuffer(bytes));
    } catch (RuntimeException e) {
      broken = true;
    }
    for (Object o; (o = decoder.readInbound()) != null; ) {
      try {
        if (broken) {
          continue;
        }
        if (o instanceof RawBytes raw) {
          ByteBuf b = raw.content();
          if (!inRequest) {
            pendingHead.writeBytes(ByteBufUtil.getBytes(b));
          } else if (matched) {
            out.writeBytes(ByteBufUtil.getBytes(b));
          }
        } else if (o instanceof HttpRequest req) {
          if (req.decoderResult().isFailure()) {
            broken = true;
            continue;
          }
          inRequest = true;
          matched = filter.matches(view(req));
          if (matched) {
            matchedRequests++;
            pendingHead.writeTo(out);
          }
          pendingHead.reset();
        }
        if (o instanceof LastHttpContent) {
          inRequest = false;
          matched = false;
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
    return out.toByteArray();
  }

  /** How many requests (h2c: streams) matched so far. */
  public int matchedRequests() {
    return h2 != null ? h2.matchedStreams() : matchedRequests;
  }

  @Override
  public void close() {
    decoder.finishAndReleaseAll();
    if (h2 != null) {
      h2.close();
    }
  }

  /** What a filter looks at of an HTTP/2 request: {@code :method}, {@code :path}, the headers without pseudo-headers. */
  public static HttpFilterMatcher.RequestView view(io.netty.handler.codec.http2.Http2Headers headers) {
    java.util.List<Map.Entry<String, String>> fields = new java.util.ArrayList<>(headers.size());
    for (Map.Entry<CharSequence, CharSequence> h : headers) {
      if (!io.netty.handler.codec.http2.Http2Headers.PseudoHeaderName.hasPseudoHeaderFormat(h.getKey())) {
        fields.add(Map.entry(h.getKey().toString(), h.getValue().toString()));
      }
    }
    String method = String.valueOf(headers.method());
    String path = String.valueOf(headers.path());
    return new HttpFilterMatcher.RequestView() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String uri() {
        return path;
      }

      @Override
      public Iterable<Map.Entry<String, String>> headers() {
        return fields;
      }
    };
  }

  /** What a filter looks at of a decoded request (also the steal side's view). */
  public static HttpFilterMatcher.RequestView view(HttpRequest req) {
    return new HttpFilterMatcher.RequestView() {
      @Override
      public String method() {
        return req.method().name();
      }

      @Override
      public String uri() {
        return req.uri();
      }

      @Override
      public Iterable<Map.Entry<String, String>> headers() {
        return req.headers();
      }
    };
  }
}
