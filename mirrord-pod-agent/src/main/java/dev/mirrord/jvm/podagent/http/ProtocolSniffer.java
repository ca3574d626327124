package dev.mirrord.jvm.podagent.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a redirected connection on a filtered port: looks at the client's first
 * bytes, without blocking, until it knows what they are ({@link #classify}), then fires a {@link
 * Detected} event and removes itself; the bytes it held go on to the next handler (Netty's {@code
 * ByteToMessageDecoder} hands its cumulation on when removed). Gives up ({@link Kind#OTHER}) after
 * {@code timeout} without a verdict, or when told that the server spoke first ({@link
 * #serverSpoke}).
 */
public final class ProtocolSniffer extends ByteToMessageDecoder {
  /** What a connection carries. */
  public enum Kind {
    HTTP1,
    H2C,
    OTHER
  }

  /** The verdict, fired as a user event before the held bytes. */
  public record Detected(Kind kind) {}

  /** Bytes looked at before giving up: a request line longer than this is not worth filtering. */
  static final int MAX_SNIFF = 8 * 1024;

  private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final long timeoutMillis;
  private ScheduledFuture<?> timer;
  private boolean decided;

  public ProtocolSniffer(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    timer = ctx.executor().schedule(() -> decide(ctx, Kind.OTHER), timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /** The target's server sent bytes before the client: a server-first protocol, pass it through. */
  public void serverSpoke(ChannelHandlerContext ctx) {
    decide(ctx, Kind.OTHER);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (decided) {
      return;
    }
    Kind k = classify(in);
    if (k != null) {
      decide(ctx, k);
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!decided && in.isReadable()) {
      decide(ctx, Kind.OTHER); // the client half-closed before we knew: pass what it sent through
    }
  }

  private void decide(ChannelHandlerContext ctx, Kind kind) {
    if (decided || ctx.isRemoved()) {
      return;
    }
    decided = true;
    if (timer != null) {
      timer.cancel(false);
    }
    ctx.fireUserEventTriggered(new Detected(kind));
    ctx.pipeline().remove(this);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /**
   * What {@code in} (readable bytes, not consumed) starts with: {@code null} while not sure yet.
   * HTTP/1 is a request line {@code TOKEN SP target SP HTTP/1.x} (leading empty lines allowed);
   * h2c prior knowledge is the connection preface.
   */
  public static Kind classify(ByteBuf in) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    int n = end - start;
    // h2c preface, or a prefix of it
    int h2 = Math.min(n, H2_PREFACE.length);
    boolean h2Prefix = true;
    for (int i = 0; i < h2; i++) {
      if (in.getByte(start + i) != H2_PREFACE[i]) {
        h2Prefix = false;
        break;
      }
    }
    if (h2Prefix) {
      return n >= H2_PREFACE.length ? Kind.H2C : null;
    }
    int i = start;
    while (i < end && (in.getByte(i) == '\r' || in.getByte(i) == '\n')) {
      i++;
    }
    // method: a token
    int methodStart = i;
    while (i < end && isTokenChar(in.getByte(i))) {
      i++;
    }
    if (i == end) {
      return n >= MAX_SNIFF ? Kind.OTHER : null;
    }
    if (i == methodStart || in.getByte(i) != ' ') {
      return Kind.OTHER;
    }
    while (i < end && in.getByte(i) == ' ') {
      i++;
    }
    // target: visible characters
    int targetStart = i;
    while (i < end && in.getByte(i) > ' ' && in.getByte(i) < 0x7f) {
      i++;
    }
    if (i == end) {
      return n >= MAX_SNIFF ? Kind.OTHER : null;
    }
    if (i == targetStart || in.getByte(i) != ' ') {
      return Kind.OTHER;
    }
    while (i < end && in.getByte(i) == ' ') {
      i++;
    }
    byte[] version = "HTTP/1.".getBytes(StandardCharsets.US_ASCII);
    for (int v = 0; v < version.length; v++, i++) {
      if (i == end) {
        return null;
      }
      if (in.getByte(i) != version[v]) {
        return Kind.OTHER;
      }
    }
    if (i == end) {
      return null;
    }
    byte minor = in.getByte(i);
    return minor == '0' || minor == '1' ? Kind.HTTP1 : Kind.OTHER;
  }

  private static boolean isTokenChar(byte b) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
  }
}
