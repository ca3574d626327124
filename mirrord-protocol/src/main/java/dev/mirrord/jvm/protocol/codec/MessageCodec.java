package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Message;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.MessageToMessageCodec;
import java.util.List;

/**
 * The only serializer: turns one frame (without its length prefix) into one {@link Message} and
 * back. A frame with an unknown tag, a tag for the other direction, a short body or trailing bytes
 * is a {@link CorruptedFrameException}: the session handler closes that connection.
 */
public final class MessageCodec extends MessageToMessageCodec<ByteBuf, Message> {
  private final Side side;

  public MessageCodec(Side side) {
    this.side = side;
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Message msg, List<Object> out) {
    ByteBuf buf = ctx.alloc().buffer(sizeHint(msg));
    try {
      encode(msg, buf);
      out.add(buf.retain());
    } finally {
      buf.release();
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
    out.add(decode(frame, side));
  }

  /**
   * The buffer to start with: a data chunk's whole frame (up to 256 KiB) at once, rather than
   * growing a 256-byte buffer by doubling, which copies a large chunk about ten times.
   */
  static int sizeHint(Message msg) {
    return msg instanceof dev.mirrord.jvm.protocol.Tcp.Data d ? 2 + 8 + 4 + d.bytes().size() : 256;
  }

  /** Writes {@code u16 tag | body} of {@code msg} into {@code buf}. */
  @SuppressWarnings("unchecked")
  public static void encode(Message msg, ByteBuf buf) {
    WireTags.Entry<Message> e = (WireTags.Entry<Message>) WireTags.forType(msg.getClass());
    buf.writeShort(e.tag());
    e.writer().accept(buf, msg);
  }

  /** Reads one whole frame body; {@code side} is the receiver. */
  public static Message decode(ByteBuf frame, Side side) {
    if (frame.readableBytes() < 2) {
      throw new CorruptedFrameException("frame shorter than its tag");
    }
    int tag = frame.readUnsignedShort();
    WireTags.Entry<?> e = WireTags.forTag(tag);
    if (e == null) {
      throw new CorruptedFrameException(String.format("unknown message tag 0x%04x", tag));
    }
    boolean allowed = side == Side.AGENT ? e.clientToAgent() : e.agentToClient();
    if (!allowed) {
      throw new CorruptedFrameException(
          String.format("message tag 0x%04x (%s) not allowed towards the %s side", tag,
              e.type().getSimpleName(), side.name().toLowerCase(java.util.Locale.ROOT)));
    }
    Message m;
    try {
      m = e.reader().apply(frame);
    } catch (IndexOutOfBoundsException | IllegalArgumentException ex) {
      throw new CorruptedFrameException(
          e.type().getSimpleName() + ": " + ex.getMessage(), ex);
    }
    if (frame.isReadable()) {
      throw new CorruptedFrameException(
          e.type().getSimpleName() + ": " + frame.readableBytes() + " trailing bytes");
    }
    return m;
  }
}
