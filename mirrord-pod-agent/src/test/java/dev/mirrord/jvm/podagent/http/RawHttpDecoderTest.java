package dev.mirrord.jvm.podagent.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The raw bytes the decoders hand on add up, message by message, to exactly what came in, at every
 * split of the input: what a filtered connection relies on to pass a request through unchanged.
 */
class RawHttpDecoderTest {
  static final List<String> REQUESTS = List.of(
      "GET /a HTTP/1.1\r\nHost: pod\r\nX-MiXeD-Case:  spaced  \r\n\r\n",
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
      "\r\nPUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n",
      "HEAD /d HTTP/1.0\r\n\r\n");

  static final List<String> RESPONSES = List.of(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", // the answer to a HEAD: no body
      "HTTP/1.1 204 No Content\r\n\r\n");

  @Test
  void requestsRawBytesAreExactlyTheInputPerRequestAtEverySplit() {
    String all = String.join("", REQUESTS);
    for (int split = 1; split < all.length(); split++) {
      EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequestDecoder());
      ch.writeInbound(buf(all.substring(0, split)));
      ch.writeInbound(buf(all.substring(split)));
      assertThat(perMessage(ch)).as("split at %d", split).isEqualTo(REQUESTS);
      assertThat(ch.finish()).isFalse();
    }
  }

  @Test
  void requestsByteByByte() {
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequestDecoder());
    for (char c : String.join("", REQUESTS).toCharArray()) {
      ch.writeInbound(buf(String.valueOf(c)));
    }
    assertThat(perMessage(ch)).isEqualTo(REQUESTS);
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void responsesRawBytesFollowTheRequestsMethodsAtEverySplit() {
    String all = String.join("", RESPONSES);
    for (int split = 1; split < all.length(); split++) {
      RawHttpResponseDecoder decoder = new RawHttpResponseDecoder();
      for (HttpMethod m : List.of(HttpMethod.POST, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE)) {
        decoder.requestSent(m);
      }
      EmbeddedChannel ch = new EmbeddedChannel(decoder);
      ch.writeInbound(buf(all.substring(0, split)));
      ch.writeInbound(buf(all.substring(split)));
      List<String> got = perMessage(ch);
      // the 100 Continue is a message of its own on the wire; the exchange ends with the 200
      assertThat(String.join("", got.subList(0, 2))).as("split at %d", split).isEqualTo(RESPONSES.get(0));
      assertThat(got.subList(2, got.size())).as("split at %d", split).isEqualTo(RESPONSES.subList(1, 4));
      assertThat(ch.finish()).isFalse();
    }
  }

  @Test
  void aMalformedRequestsBytesAndAllThatFollowsAreStillHandedOn() {
    String bad = "GET /x HTTP/1.1\r\nno colon\r\n\r\nGET /y HTTP/1.1\r\n\r\n";
    EmbeddedChannel ch = new EmbeddedChannel(new RawHttpRequestDecoder());
    ch.writeInbound(buf(bad.substring(0, 10)));
    ch.writeInbound(buf(bad.substring(10)));
    StringBuilder raw = new StringBuilder();
    boolean failed = false;
    for (Object o; (o = ch.readInbound()) != null; ) {
      if (o instanceof RawBytes r) {
        raw.append(r.content().toString(StandardCharsets.ISO_8859_1));
      } else if (o instanceof HttpObject h && h.decoderResult().isFailure()) {
        failed = true;
      }
      ReferenceCountUtil.release(o);
    }
    assertThat(failed).isTrue();
    assertThat(raw.toString()).isEqualTo(bad);
    ch.finishAndReleaseAll();
  }

  /** The raw bytes grouped by message: a message ends with its LastHttpContent. */
  private static List<String> perMessage(EmbeddedChannel ch) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (Object o; (o = ch.readInbound()) != null; ) {
      if (o instanceof RawBytes r) {
        cur.append(r.content().toString(StandardCharsets.ISO_8859_1));
      } else if (o instanceof LastHttpContent) {
        out.add(cur.toString());
        cur.setLength(0);
      } else if (o instanceof HttpContent || o instanceof HttpObject) {
        assertThat(((HttpObject) o).decoderResult().isSuccess()).as("%s", o).isTrue();
      }
      ReferenceCountUtil.release(o);
    }
    assertThat(cur.toString()).as("bytes after the last message").isEmpty();
    return out;
  }

  private static ByteBuf buf(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }
}
