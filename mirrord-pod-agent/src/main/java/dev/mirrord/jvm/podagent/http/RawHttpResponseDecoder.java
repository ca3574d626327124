package dev.mirrord.jvm.podagent.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's {@link HttpResponseDecoder} with {@link RawBytes} (see {@link RawHttpRequestDecoder}), for
 * the target server's answers on a pass-through connection: it only finds where each response ends,
 * the bytes are written to the client as they came. It knows the methods of the requests sent
 * ({@link #requestSent}), as {@code HttpClientCodec} does, so that the answer to a {@code HEAD} has
 * no body whatever its {@code Content-Length} says.
 */
public final class RawHttpResponseDecoder extends HttpResponseDecoder {
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

  public RawHttpResponseDecoder() {
    super(RawHttpRequestDecoder.config());
  }

  /** A request with {@code method} was sent on this connection (its response comes in order). */
  public void requestSent(HttpMethod method) {
    methods.add(method);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    decodeWithRaw(buffer, out, () -> super.decode(ctx, buffer, out));
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (msg instanceof HttpResponse res) {
      int code = res.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        return super.isContentAlwaysEmpty(msg); // informational: the real answer is still to come
      }
      HttpMethod method = methods.poll();
      if (HttpMethod.HEAD.equals(method)) {
        return true;
      }
      if (HttpMethod.CONNECT.equals(method) && code >= 200 && code < 300) {
        return true;
      }
    }
    return super.isContentAlwaysEmpty(msg);
  }

  interface Step {
    void run() throws Exception;
  }

  /** Runs one decode step and puts what it consumed, as {@link RawBytes}, before what it produced. */
  static void decodeWithRaw(ByteBuf buffer, List<Object> out, Step step) throws Exception {
    int before = buffer.readerIndex();
    int produced = out.size();
    step.run();
    int consumed = buffer.readerIndex() - before;
    if (consumed > 0) {
      RawBytes raw = new RawBytes(buffer.retainedSlice(before, consumed));
      if (produced == out.size()) {
        out.add(raw); // Netty's CodecOutputList inserts only before an existing element
      } else {
        out.add(produced, raw);
      }
    }
  }
}
