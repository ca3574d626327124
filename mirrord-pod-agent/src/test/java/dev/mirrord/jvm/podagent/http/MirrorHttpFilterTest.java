package dev.mirrord.jvm.podagent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.Http;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Mirror with a filter: only the matched requests' own bytes are copied, at every split of the stream. */
class MirrorHttpFilterTest {
  static final String MINE = "POST /a HTTP/1.1\r\nX-Dev: me\r\nContent-Length: 3\r\n\r\nabc";
  static final String OTHER = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  static final String MINE_CHUNKED = "PUT /c HTTP/1.1\r\nx-dev: ME\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";

  @Test
  void onlyMatchedRequestsComeOutByteForByteAtEverySplit() {
    String all = MINE + OTHER + MINE_CHUNKED + OTHER;
    for (int split = 1; split < all.length(); split++) {
      MirrorHttpFilter f = new MirrorHttpFilter(HttpFilterMatcher.compile(new Http.Filter.Header("^x-dev: me$")));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(f.feed(all.substring(0, split).getBytes(StandardCharsets.ISO_8859_1)));
      out.writeBytes(f.feed(all.substring(split).getBytes(StandardCharsets.ISO_8859_1)));
      assertThat(out.toString(StandardCharsets.ISO_8859_1)).as("split %d", split).isEqualTo(MINE + MINE_CHUNKED);
      assertThat(f.matchedRequests()).isEqualTo(2);
      f.close();
    }
  }

  @Test
  void aConnectionThatIsNotHttpMirrorsNothing() {
    MirrorHttpFilter f = new MirrorHttpFilter(HttpFilterMatcher.compile(new Http.Filter.Path("/")));
    assertThat(f.feed("\u0016\u0003\u0001 binary\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1))).isEmpty();
    assertThat(f.feed(MINE.getBytes(StandardCharsets.ISO_8859_1))).isEmpty();
    f.close();
  }
}
