package dev.mirrord.jvm.podagent.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.ByteArrayOutputStream;
import java.util.HashSet;
import java.util.Set;

/**
 * Mirror mode with an HTTP filter, for one sniffed h2c (prior knowledge) connection: the client's
 * bytes are read as HTTP/2 frames (Netty's frame reader, so HPACK state follows the client's), and
 * only the streams whose request headers {@code filter} matches come out, re-encoded (Netty's frame
 * writer, our own HPACK state) as a client connection of their own: the preface, SETTINGS that
 * give the app the largest windows (its answers are dropped by the CLI, nobody returns window to
 * it), then those streams' HEADERS, DATA, trailers and resets under their own ids. The client's
 * SETTINGS, WINDOW_UPDATE, PING, PRIORITY and GOAWAY concern its own server and are not copied.
 * A connection whose frames cannot be read (or a header block over {@link #MAX_HEADER_LIST}) mirrors
 * nothing from there on. Single-threaded (the sniffer thread).
 */
final class MirrorH2Filter implements AutoCloseable {
  static final int MAX_HEADER_LIST = 1024 * 1024;

  private final HttpFilterMatcher filter;
  private final EmbeddedChannel wire = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
  private final ChannelHandlerContext ctx = wire.pipeline().firstContext();
  private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);
  private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
  private final ByteBuf in = Unpooled.buffer();
  /** Streams whose request headers were read (so the next HEADERS are trailers), and the matched ones. */
  private final Set<Integer> open = new HashSet<>();
  private final Set<Integer> matched = new HashSet<>();
  private boolean prefaceSkipped;
  private boolean started;
  private boolean broken;
  private int matchedStreams;

  MirrorH2Filter(HttpFilterMatcher filter) {
    this.filter = filter;
    try {
      // The client writes as its server's SETTINGS allow: read whatever HTTP/2 permits.
      reader.maxFrameSize(Http2CodecUtil.MAX_FRAME_SIZE_UPPER_BOUND);
      reader.headersConfiguration().maxHeaderTableSize(Http2CodecUtil.MAX_HEADER_TABLE_SIZE);
      reader.headersConfiguration().maxHeaderListSize(MAX_HEADER_LIST, MAX_HEADER_LIST);
    } catch (Http2Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Feeds the client's next bytes (starting with the preface); returns what to mirror (often nothing). */
  byte[] feed(byte[] bytes) {
    if (broken) {
      return new byte[0];
    }
    in.writeBytes(bytes);
    if (!prefaceSkipped) {
      if (in.readableBytes() < Http2CodecUtil.connectionPrefaceBuf().readableBytes()) {
        return new byte[0];
      }
      in.skipBytes(Http2CodecUtil.connectionPrefaceBuf().readableBytes());
      prefaceSkipped = true;
    }
    try {
      reader.readFrame(ctx, in, listener);
    } catch (Http2Exception | RuntimeException e) {
      broken = true;
    }
    in.discardSomeReadBytes();
    return written();
  }

  int matchedStreams() {
    return matchedStreams;
  }

  private byte[] written() {
    wire.flushOutbound();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object o; (o = wire.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      try {
        out.writeBytes(ByteBufUtil.getBytes(b));
      } finally {
        b.release();
      }
    }
    return out.toByteArray();
  }

  /** Our own connection's start, at the first matched stream. */
  private void start() {
    if (started) {
      return;
    }
    started = true;
    ctx.write(Http2CodecUtil.connectionPrefaceBuf());
    writer.writeSettings(ctx, new Http2Settings().initialWindowSize(Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE)
        .pushEnabled(false), wire.newPromise());
    writer.writeWindowUpdate(ctx, 0, Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE - Http2CodecUtil.DEFAULT_WINDOW_SIZE,
        wire.newPromise());
  }

  private void ended(int streamId) {
    open.remove(streamId);
    matched.remove(streamId);
  }

  private final Http2FrameAdapter listener = new Http2FrameAdapter() {
    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
        boolean endStream) {
      if (open.add(streamId) && filter.matches(MirrorHttpFilter.view(headers))) {
        matched.add(streamId);
        matchedStreams++;
        start();
      }
      if (matched.contains(streamId)) {
        writer.writeHeaders(ctx, streamId, headers, 0, endStream, wire.newPromise());
      }
      if (endStream) {
        ended(streamId);
      }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
        short weight, boolean exclusive, int padding, boolean endStream) {
      onHeadersRead(c, streamId, headers, padding, endStream);
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endStream) {
      int n = data.readableBytes() + padding;
      if (matched.contains(streamId)) {
        writer.writeData(ctx, streamId, data.retain(), 0, endStream, wire.newPromise());
      }
      if (endStream) {
        ended(streamId);
      }
      return n;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
      if (matched.contains(streamId)) {
        writer.writeRstStream(ctx, streamId, errorCode, wire.newPromise());
      }
      ended(streamId);
    }
  };

  @Override
  public void close() {
    in.release();
    reader.close();
    writer.close();
    wire.finishAndReleaseAll();
  }
}
