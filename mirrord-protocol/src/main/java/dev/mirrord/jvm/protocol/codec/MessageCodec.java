package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
  private final boolean dataFrames;

  public MessageCodec(Side side) {
    this(side, false);
  }

  /**
   * With {@code dataFrames}, a received {@code Tcp.Data} becomes a {@link DataFrame} holding a
   * slice of the frame instead of a record with a copy of its bytes (for the processes that relay
   * them: see {@link ProtocolPipeline#installRelaying}).
   */
  public MessageCodec(Side side, boolean dataFrames) {
    this.side = side;
    this.dataFrames = dataFrames;
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
    if (dataFrames && frame.readableBytes() >= 2 && frame.getUnsignedShort(frame.readerIndex()) == DATA_TAG) {
      out.add(decodeDataFrame(frame));
      return;
    }
    out.add(decode(frame, side));
  }

  /**
   * A {@code Tcp.Data} frame body as a {@link DataFrame} around a retained slice of {@code frame};
   * the same checks as {@link #decode(ByteBuf, Side)} (the tag travels both ways).
   */
  static DataFrame decodeDataFrame(ByteBuf frame) {
    if (frame.readableBytes() < DATA_HEADER_SIZE) {
      throw new CorruptedFrameException("Data: frame of " + frame.readableBytes() + " bytes is shorter than its header");
    }
    frame.skipBytes(2);
    long id = frame.readLong();
    int n = frame.readInt();
    if (n < 0 || n > frame.readableBytes()) {
      throw new CorruptedFrameException("Data: length " + n + " but " + frame.readableBytes() + " bytes left");
    }
    if (n < frame.readableBytes()) {
      throw new CorruptedFrameException("Data: " + (frame.readableBytes() - n) + " trailing bytes");
    }
    return new DataFrame(id, frame.readRetainedSlice(n));
  }

  /**
   * The buffer to start with: a data chunk's whole frame (up to 256 KiB) at once, rather than
   * growing a 256-byte buffer by doubling, which copies a large chunk about ten times.
   */
  static int sizeHint(Message msg) {
    return msg instanceof dev.mirrord.jvm.protocol.Tcp.Data d ? DATA_HEADER_SIZE + d.bytes().size() : 256;
  }

  /** Writes {@code u16 tag | body} of {@code msg} into {@code buf}. */
  @SuppressWarnings("unchecked")
  public static void encode(Message msg, ByteBuf buf) {
    WireTags.Entry<Message> e = (WireTags.Entry<Message>) WireTags.forType(msg.getClass());
    buf.writeShort(e.tag());
    e.format().write(buf, msg);
  }

  /** A {@code Tcp.Data} frame body before its bytes: u16 tag, u64 connection id, u32 length. */
  private static final int DATA_HEADER_SIZE = 2 + 8 + 4;

  /** Chunks below this are copied next to their header; larger ones are sent in place. */
  static final int COPY_BELOW = 4096;

  /**
   * The frame body of {@code Tcp.Data(connectionId, bytes)}, exactly as {@link #encode} writes it,
   * built around {@code bytes} instead of from a {@code byte[]}: the relays send a socket's read
   * buffer on without copying it into an array first (allocating and zeroing a 256 KiB array per
   * chunk, then copying it again into the frame, was a quarter of the CLI's CPU in a bulk
   * upload). Takes ownership of {@code bytes}.
   */
  public static ByteBuf encodeData(ByteBufAllocator alloc, long connectionId, ByteBuf bytes) {
    int n = bytes.readableBytes();
    if (n < COPY_BELOW) {
      ByteBuf frame = alloc.buffer(DATA_HEADER_SIZE + n);
      try {
        writeDataHeader(frame, connectionId, n);
        frame.writeBytes(bytes);
      } finally {
        bytes.release();
      }
      return frame;
    }
    ByteBuf header = alloc.buffer(DATA_HEADER_SIZE);
    writeDataHeader(header, connectionId, n);
    return alloc.compositeBuffer(2).addComponents(true, header, bytes);
  }

  private static void writeDataHeader(ByteBuf frame, long connectionId, int size) {
    frame.writeShort(DATA_TAG);
    frame.writeLong(connectionId);
    frame.writeInt(size);
  }

  private static final int DATA_TAG = WireTags.forType(dev.mirrord.jvm.protocol.Tcp.Data.class).tag();

  /**
   * Sends {@code Tcp.Data(connectionId, bytes)} on a protocol connection ({@link #encodeData});
   * releases {@code bytes} if the connection is gone.
   */
  public static void writeData(io.netty.channel.Channel protocolChannel, long connectionId, ByteBuf bytes) {
    if (protocolChannel == null || !protocolChannel.isActive()) {
      bytes.release();
      return;
    }
    protocolChannel.writeAndFlush(encodeData(protocolChannel.alloc(), connectionId, bytes));
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
      m = e.format().read(frame);
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
