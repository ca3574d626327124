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
  void anH2cConnectionMirrorsOnlyTheMatchedStreamsReEncodedAtEverySplit() throws Exception {
    byte[] client = h2cClient();
    for (int split = 1; split < client.length; split += 3) {
      MirrorHttpFilter f = new MirrorHttpFilter(HttpFilterMatcher.compile(new Http.Filter.Header("^x-dev: me$")));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(f.feed(java.util.Arrays.copyOfRange(client, 0, split)));
      out.writeBytes(f.feed(java.util.Arrays.copyOfRange(client, split, client.length)));
      assertThat(frames(out.toByteArray())).as("split %d", split).containsExactly(
          "SETTINGS", "WINDOW_UPDATE 0", "HEADERS 1 POST /a x-dev=me end=false", "DATA 1 abc end=false",
          "HEADERS 1 trailer=t end=true", "HEADERS 5 GET /c x-dev=me end=true", "HEADERS 7 GET /d x-dev=me end=false",
          "RST_STREAM 7 8");
      assertThat(f.matchedRequests()).isEqualTo(3);
      f.close();
    }
  }

  /** An h2c client's bytes: streams 1, 5 and 7 match, 3 does not; SETTINGS, PING and WINDOW_UPDATE between. */
  private static byte[] h2cClient() {
    io.netty.channel.embedded.EmbeddedChannel ch =
        new io.netty.channel.embedded.EmbeddedChannel(new io.netty.channel.ChannelInboundHandlerAdapter());
    io.netty.channel.ChannelHandlerContext ctx = ch.pipeline().firstContext();
    io.netty.handler.codec.http2.DefaultHttp2FrameWriter w = new io.netty.handler.codec.http2.DefaultHttp2FrameWriter();
    ch.writeOutbound(io.netty.handler.codec.http2.Http2CodecUtil.connectionPrefaceBuf());
    w.writeSettings(ctx, new io.netty.handler.codec.http2.Http2Settings(), ch.newPromise());
    w.writeHeaders(ctx, 1, headers("POST", "/a").add("x-dev", "me"), 0, false, ch.newPromise());
    w.writeHeaders(ctx, 3, headers("POST", "/b").add("x-dev", "other"), 0, false, ch.newPromise());
    w.writePing(ctx, false, 7, ch.newPromise());
    w.writeData(ctx, 3, io.netty.buffer.Unpooled.copiedBuffer("xyz", StandardCharsets.UTF_8), 0, true, ch.newPromise());
    w.writeData(ctx, 1, io.netty.buffer.Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8), 0, false, ch.newPromise());
    w.writeWindowUpdate(ctx, 0, 1000, ch.newPromise());
    w.writeHeaders(ctx, 1, new io.netty.handler.codec.http2.DefaultHttp2Headers().add("trailer", "t"), 0, true,
        ch.newPromise());
    w.writeHeaders(ctx, 5, headers("GET", "/c").add("x-dev", "me"), 0, true, ch.newPromise());
    w.writeHeaders(ctx, 7, headers("GET", "/d").add("x-dev", "me"), 0, false, ch.newPromise());
    w.writeRstStream(ctx, 7, 8, ch.newPromise());
    ch.flushOutbound();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) o;
      out.writeBytes(io.netty.buffer.ByteBufUtil.getBytes(b));
      b.release();
    }
    ch.finishAndReleaseAll();
    return out.toByteArray();
  }

  private static io.netty.handler.codec.http2.Http2Headers headers(String method, String path) {
    return new io.netty.handler.codec.http2.DefaultHttp2Headers().method(method).scheme("http").authority("pod")
        .path(path);
  }

  /** The frames of a client connection's bytes (after its preface), one line each. */
  private static java.util.List<String> frames(byte[] bytes) throws Exception {
    byte[] preface = io.netty.buffer.ByteBufUtil.getBytes(io.netty.handler.codec.http2.Http2CodecUtil.connectionPrefaceBuf());
    assertThat(java.util.Arrays.copyOfRange(bytes, 0, preface.length)).isEqualTo(preface);
    java.util.List<String> out = new java.util.ArrayList<>();
    io.netty.channel.embedded.EmbeddedChannel ch =
        new io.netty.channel.embedded.EmbeddedChannel(new io.netty.channel.ChannelInboundHandlerAdapter());
    io.netty.handler.codec.http2.DefaultHttp2FrameReader r = new io.netty.handler.codec.http2.DefaultHttp2FrameReader();
    io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.wrappedBuffer(bytes, preface.length, bytes.length - preface.length);
    r.readFrame(ch.pipeline().firstContext(), in, new io.netty.handler.codec.http2.Http2FrameAdapter() {
      @Override
      public void onSettingsRead(io.netty.channel.ChannelHandlerContext c, io.netty.handler.codec.http2.Http2Settings s) {
        out.add("SETTINGS");
      }

      @Override
      public void onWindowUpdateRead(io.netty.channel.ChannelHandlerContext c, int stream, int increment) {
        out.add("WINDOW_UPDATE " + stream);
      }

      @Override
      public void onHeadersRead(io.netty.channel.ChannelHandlerContext c, int stream,
          io.netty.handler.codec.http2.Http2Headers h, int padding, boolean end) {
        out.add("HEADERS " + stream + (h.method() != null ? " " + h.method() + " " + h.path() + " x-dev=" + h.get("x-dev")
            : " trailer=" + h.get("trailer")) + " end=" + end);
      }

      @Override
      public int onDataRead(io.netty.channel.ChannelHandlerContext c, int stream, io.netty.buffer.ByteBuf data,
          int padding, boolean end) {
        out.add("DATA " + stream + " " + data.toString(StandardCharsets.UTF_8) + " end=" + end);
        return data.readableBytes() + padding;
      }

      @Override
      public void onRstStreamRead(io.netty.channel.ChannelHandlerContext c, int stream, long error) {
        out.add("RST_STREAM " + stream + " " + error);
      }

      @Override
      public void onPingRead(io.netty.channel.ChannelHandlerContext c, long data) {
        out.add("PING");
      }
    });
    in.release();
    r.close();
    ch.finishAndReleaseAll();
    return out;
  }

  @Test
  void aConnectionThatIsNotHttpMirrorsNothing() {
    MirrorHttpFilter f = new MirrorHttpFilter(HttpFilterMatcher.compile(new Http.Filter.Path("/")));
    assertThat(f.feed("\u0016\u0003\u0001 binary\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1))).isEmpty();
    assertThat(f.feed(MINE.getBytes(StandardCharsets.ISO_8859_1))).isEmpty();
    f.close();
  }
}
