package dev.mirrord.jvm.cli.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.HashSet;
import java.util.Set;

/**
 * Which streams of a mirrored h2c connection the app has not finished yet. A mirrored copy lags
 * behind the target; when the real client's connection ends, the copy's last requests may still be
 * in the app. An HTTP/2 server (Netty's, so gRPC-java's) takes the connection's end of input as the
 * end of the connection and cancels every stream still open, so the CLI half-closes a mirrored
 * h2c connection only once the app has answered (END_STREAM or RST_STREAM) every stream it was
 * given; HTTP/1 servers finish what they read before they see the end, and need no wait.
 *
 * <p>Both directions are read with Netty's frame reader (HPACK state included) and nothing is
 * changed. A connection that does not start with the h2c preface is not tracked; one whose frames
 * cannot be read counts as finished (the CLI's drain bound still applies). One relay's event loop.
 */
final class MirroredH2Streams implements AutoCloseable {
  private static final byte[] PREFACE = ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf());
  private static final int MAX_HEADER_LIST = 1024 * 1024;

  private enum State { SNIFFING, H2, NOT_H2, BROKEN }

  /** Made once the preface is seen (most mirrored connections are HTTP/1 or not HTTP at all). */
  private EmbeddedChannel wire;
  private ChannelHandlerContext ctx;
  private Direction toApp;
  private Direction fromApp;
  private final Set<Integer> open = new HashSet<>();
  private State state = State.SNIFFING;
  private int prefaceSeen;
  /** The client's highest stream id so far: a HEADERS frame above it opens a stream, others are trailers. */
  private int lastStream;

  /** The bytes the CLI writes to the app (the target's client's, as mirrored); not consumed. */
  void toApp(ByteBuf bytes) {
    if (state == State.SNIFFING) {
      int i = bytes.readerIndex();
      while (prefaceSeen < PREFACE.length && i < bytes.writerIndex()) {
        if (bytes.getByte(i++) != PREFACE[prefaceSeen++]) {
          state = State.NOT_H2;
          return;
        }
      }
      if (prefaceSeen < PREFACE.length) {
        return;
      }
      state = State.H2;
      wire = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
      ctx = wire.pipeline().firstContext();
      toApp = new Direction(true);
      fromApp = new Direction(false);
      toApp.read(bytes.slice(i, bytes.writerIndex() - i));
      return;
    }
    if (state == State.H2) {
      toApp.read(bytes);
    }
  }

  /** The app's bytes (its answers, which the CLI drops); not consumed. */
  void fromApp(ByteBuf bytes) {
    if (state == State.H2) {
      fromApp.read(bytes);
    }
  }

  /** True unless this is an h2c connection with streams the app has not finished. */
  boolean appDone() {
    return state != State.H2 || open.isEmpty();
  }

  /** Streams given to the app and not finished by it (for the log). */
  int openStreams() {
    return state == State.H2 ? open.size() : 0;
  }

  @Override
  public void close() {
    if (wire != null) {
      toApp.close();
      fromApp.close();
      wire.finishAndReleaseAll();
      wire = null;
    }
    state = State.NOT_H2;
  }

  private final class Direction extends Http2FrameAdapter {
    private final boolean client;
    private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);
    private final ByteBuf in = Unpooled.buffer();

    Direction(boolean client) {
      this.client = client;
      try {
        reader.maxFrameSize(Http2CodecUtil.MAX_FRAME_SIZE_UPPER_BOUND);
        reader.headersConfiguration().maxHeaderTableSize(Http2CodecUtil.MAX_HEADER_TABLE_SIZE);
        reader.headersConfiguration().maxHeaderListSize(MAX_HEADER_LIST, MAX_HEADER_LIST);
      } catch (Http2Exception e) {
        throw new IllegalStateException(e);
      }
    }

    void read(ByteBuf bytes) {
      in.writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
      try {
        reader.readFrame(ctx, in, this);
      } catch (Http2Exception | RuntimeException e) {
        state = State.BROKEN;
      }
      in.discardSomeReadBytes();
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
        boolean endStream) {
      if (client) {
        if (streamId > lastStream) {
          lastStream = streamId;
          open.add(streamId);
        }
      } else if (endStream) {
        open.remove(streamId);
      }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
        short weight, boolean exclusive, int padding, boolean endStream) {
      onHeadersRead(c, streamId, headers, padding, endStream);
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endStream) {
      if (!client && endStream) {
        open.remove(streamId);
      }
      return data.readableBytes() + padding;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
      open.remove(streamId);
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
      if (!client) {
        open.removeIf(id -> id > lastStreamId); // the app will not process these
      }
    }

    void close() {
      in.release();
      reader.close();
    }
  }
}
