package dev.mirrord.jvm.podagent.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * The exact bytes one decode step of {@link RawHttpRequestDecoder} or {@link
 * RawHttpResponseDecoder} consumed, handed on <em>before</em> the HTTP objects that step produced.
 * Bytes that come before an {@code HttpRequest} (or {@code HttpResponse}) are its head; bytes
 * between a head and its {@code LastHttpContent} are its body (chunk framing included). So a
 * message passed through can be written exactly as it arrived. A reference-counted slice: whoever
 * receives it writes or releases it.
 */
public final class RawBytes extends DefaultByteBufHolder {
  public RawBytes(ByteBuf bytes) {
    super(bytes);
  }

  @Override
  public String toString() {
    return "RawBytes(" + content().readableBytes() + " bytes)";
  }
}
