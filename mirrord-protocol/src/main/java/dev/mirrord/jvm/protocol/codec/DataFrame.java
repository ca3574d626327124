package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;

/**
 * A received {@code Tcp.Data} frame whose bytes stay in the connection's own buffer: what a
 * relaying connection's {@link MessageCodec} hands on instead of a {@code Tcp.Data} record (see
 * {@link ProtocolPipeline#installRelaying}). The relay writes {@link #content()} to its socket as
 * it is — no {@code byte[]} to allocate, zero and fill, and no copy back into a direct buffer for
 * the socket write, per chunk and per process a byte crosses.
 *
 * <p>Reference counted: whoever receives one either passes it on (writing the content to a channel
 * transfers it) or releases it. {@link #toMessage} turns it into the record for the few receivers
 * that want one (datagram flows).
 */
public final class DataFrame extends DefaultByteBufHolder {
  private final long connectionId;

  public DataFrame(long connectionId, ByteBuf bytes) {
    super(bytes);
    this.connectionId = connectionId;
  }

  public long connectionId() {
    return connectionId;
  }

  /** The bytes' length. */
  public int size() {
    return content().readableBytes();
  }

  /** The equivalent {@code Tcp.Data}, with a copy of the bytes; releases this frame. */
  public Tcp.Data toMessage() {
    try {
      return new Tcp.Data(connectionId, Payload.wrap(ByteBufUtil.getBytes(content())));
    } finally {
      release();
    }
  }

  /** {@code m} itself, or the {@code Tcp.Data} of a {@code DataFrame} ({@link #toMessage}). */
  public static Message asMessage(Object m) {
    return m instanceof DataFrame f ? f.toMessage() : (Message) m;
  }

  /** The connection id of a {@code DataFrame} or of a {@code Tcp} stream message ({@code Tcp.connectionIdOf}). */
  public static long connectionIdOf(Object m) {
    return m instanceof DataFrame f ? f.connectionId() : Tcp.connectionIdOf((Message) m);
  }

  /** Whether {@code m} carries bytes: a {@code DataFrame} or a {@code Tcp.Data} record. */
  public static boolean isData(Object m) {
    return m instanceof DataFrame || m instanceof Tcp.Data;
  }

  /**
   * The bytes of a {@code DataFrame} (its content, which the caller now owns) or of a {@code
   * Tcp.Data} record (its array, wrapped), to write to a relayed socket.
   */
  public static ByteBuf bytesOf(Object m) {
    return m instanceof DataFrame f ? f.content() : Unpooled.wrappedBuffer(((Tcp.Data) m).bytes().unsafeArray());
  }

  /** The length of a {@code Tcp.Data} record or a {@code DataFrame}; 0 for anything else. */
  public static int dataSize(Object m) {
    if (m instanceof DataFrame f) {
      return f.size();
    }
    return m instanceof Tcp.Data d ? d.bytes().size() : 0;
  }

  /** Releases {@code m} if it is a {@code DataFrame} (e.g. a queued message that will never be applied). */
  public static void discard(Object m) {
    ReferenceCountUtil.release(m);
  }

  @Override
  public DataFrame replace(ByteBuf content) {
    return new DataFrame(connectionId, content);
  }

  @Override
  public String toString() {
    return "DataFrame[" + connectionId + ", " + (refCnt() > 0 ? size() + " bytes" : "released") + "]";
  }
}
