package dev.mirrord.jvm.podagent.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Detection on every prefix of the first bytes, and the hand-over of what was held. */
class ProtocolSnifferTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "GET / HTTP/1.1\\r\\n\\r\\n|HTTP1",
      "\\r\\nPOST /x?y=1 HTTP/1.0\\r\\n|HTTP1",
      "FOO /x HTTP/1.1\\r\\n|HTTP1",
      "GET  /  HTTP/1.1\\r\\n|HTTP1",
      "PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n|H2C",
      "GET / HTTP/2\\r\\n|OTHER",
      "GET / asd d HTTP/1.1\\r\\n|OTHER",
      "'\u0016\u0003\u0001\u0002'|OTHER",
      "SSH-2.0-OpenSSH_9\\r\\n|OTHER",
      "get / http/1.1\\r\\n|OTHER"})
  void classifiesAndNeverDecidesEarlyOnAPrefix(String input, ProtocolSniffer.Kind kind) {
    byte[] bytes = input.replace("\\r", "\r").replace("\\n", "\n").getBytes(StandardCharsets.ISO_8859_1);
    ProtocolSniffer.Kind verdict = null;
    for (int n = 1; n <= bytes.length && verdict == null; n++) {
      ByteBuf b = Unpooled.wrappedBuffer(bytes, 0, n);
      verdict = ProtocolSniffer.classify(b);
      assertThat(b.readerIndex()).isZero();
    }
    assertThat(verdict).isEqualTo(kind);
  }

  @Test
  void splitInputReachesTheNextHandlerWholeAfterTheVerdict() {
    List<Object> seen = new ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel(new ProtocolSniffer(60_000), new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        seen.add(evt);
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        seen.add(((ByteBuf) msg).toString(StandardCharsets.ISO_8859_1));
        ((ByteBuf) msg).release();
      }
    });
    ch.writeInbound(Unpooled.copiedBuffer("GE", StandardCharsets.ISO_8859_1));
    ch.writeInbound(Unpooled.copiedBuffer("T / HT", StandardCharsets.ISO_8859_1));
    assertThat(seen).isEmpty();
    ch.writeInbound(Unpooled.copiedBuffer("TP/1.1\r\nHost: x", StandardCharsets.ISO_8859_1));
    ch.writeInbound(Unpooled.copiedBuffer("\r\n\r\n", StandardCharsets.ISO_8859_1));
    assertThat(seen).containsExactly(new ProtocolSniffer.Detected(ProtocolSniffer.Kind.HTTP1),
        "GET / HTTP/1.1\r\nHost: x", "\r\n\r\n");
    assertThat(ch.pipeline().get(ProtocolSniffer.class)).isNull();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void aSilentClientIsPassedThroughAfterTheTimeout() throws Exception {
    List<Object> seen = new ArrayList<>();
    EmbeddedChannel ch = new EmbeddedChannel(new ProtocolSniffer(10), new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        seen.add(evt);
      }
    });
    Thread.sleep(30);
    ch.runPendingTasks();
    ch.runScheduledPendingTasks();
    assertThat(seen).containsExactly(new ProtocolSniffer.Detected(ProtocolSniffer.Kind.OTHER));
    assertThat(ch.finish()).isFalse();
  }
}
