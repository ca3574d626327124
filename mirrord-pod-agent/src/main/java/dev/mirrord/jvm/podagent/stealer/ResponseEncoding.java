package dev.mirrord.jvm.podagent.stealer;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.util.List;

/**
 * Netty's {@link HttpResponseEncoder} used as a function (not in a pipeline): a filtered
 * connection writes the server's bytes and the sessions' encoded answers on one socket, so the
 * encoder cannot sit in that socket's pipeline. One instance per answer head (its state is the
 * framing of that answer's body).
 */
final class ResponseEncoding extends HttpResponseEncoder {
  /**
   * Encodes {@code msg} into {@code out}. The content of an {@code HttpContent} goes into {@code
   * out} as it is (Netty 4.2's encoder takes it over without a retain; {@code out}'s buffers are
   * written, which releases them).
   */
  void encodeTo(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
    encode(ctx, msg, out);
  }
}
