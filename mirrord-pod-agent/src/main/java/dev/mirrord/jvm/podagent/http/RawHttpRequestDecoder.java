package dev.mirrord.jvm.podagent.http;

import dev.mirrord.jvm.protocol.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.util.List;

/**
 * Netty's {@link HttpRequestDecoder} that also hands on, before the objects of each decode step,
 * the bytes that step consumed ({@link RawBytes}). Netty's decoder returns from a step right after
 * a message's {@code LastHttpContent}, so no step mixes two requests' bytes ({@code
 * RawHttpDecoderTest} checks it on split input). Heads up to {@link #MAX_HEAD} bytes.
 */
public final class RawHttpRequestDecoder extends HttpRequestDecoder {
  /** Longest request line, and largest head, accepted before a request counts as malformed. */
  public static final int MAX_HEAD = 64 * 1024;

  public RawHttpRequestDecoder() {
    super(config());
  }

  static HttpDecoderConfig config() {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_HEAD)
        .setMaxHeaderSize(MAX_HEAD)
        .setMaxChunkSize(Tcp.MAX_CHUNK)
        .setValidateHeaders(false);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    RawHttpResponseDecoder.decodeWithRaw(buffer, out, () -> super.decode(ctx, buffer, out));
  }
}
