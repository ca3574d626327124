package dev.mirrord.jvm.protocol.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * The one place that installs protocol handlers, in this order: flush consolidation, frame decoder,
 * length prepender, {@link MessageCodec}, idle detection, then the caller's session handler.
 *
 * <p>Flushes are consolidated ({@link FlushConsolidationHandler}): every sender may {@code
 * writeAndFlush} one message, but the socket is written once per event-loop turn (or per read
 * batch of this connection), so the chunks that many relayed sockets read in one turn leave in one
 * {@code writev} instead of one system call each.
 *
 * <p>The frame decoder rejects any frame larger than {@link #MAX_FRAME} before buffering it, so a
 * hostile peer cannot make us hold more than that per connection.
 */
public final class ProtocolPipeline {
  /** Largest frame body, tag included. A {@code Tcp.Data} chunk is at most 256 KiB ({@code Tcp.MAX_CHUNK}). */
  public static final int MAX_FRAME = 1024 * 1024;

  /** Reader idle (no frame at all, not even a Pong) after which the session may be closed. */
  public static final int READER_IDLE_SECONDS = 60;

  /** Writer idle after which a Ping should be sent. */
  public static final int WRITER_IDLE_SECONDS = 15;

  /**
   * Write-buffer water marks for protocol connections and for the sockets relayed over them.
   * Netty's default (32/64 KiB) is one {@code Tcp.Data} chunk: every chunk would flip writability,
   * and each flip of a relayed socket costs a {@code Tcp.Flow} round trip across three processes.
   * With room for several chunks in flight, pauses happen only when a side really falls behind.
   */
  public static final WriteBufferWaterMark WATER_MARK =
      new WriteBufferWaterMark(1024 * 1024, 4 * 1024 * 1024);

  /**
   * Socket reads of up to {@link dev.mirrord.jvm.protocol.Tcp#MAX_CHUNK} for protocol connections and
   * relayed sockets (Netty's default stops at 64 KiB): fewer, larger frames, fewer wake-ups of the
   * three processes a relayed byte crosses.
   */
  public static final AdaptiveRecvByteBufAllocator RECV_ALLOCATOR =
      new AdaptiveRecvByteBufAllocator(4096, 64 * 1024, dev.mirrord.jvm.protocol.Tcp.MAX_CHUNK);

  /** Send/receive buffer asked for unix-socket protocol connections (the kernel caps it at wmem_max). */
  public static final int UNIX_SOCKET_BUFFER = 4 * 1024 * 1024;

  /** Flushes coalesced into one before the socket is written regardless of the event-loop turn. */
  static final int FLUSH_CONSOLIDATION_LIMIT = 64;

  private ProtocolPipeline() {}

  /**
   * Netty's {@link ByteToMessageDecoder#COMPOSITE_CUMULATOR}, made to keep only what the unflushed
   * {@link DataFrame}s need. A {@code DataFrame} is a retained slice of the decoder's composite, so
   * it keeps every read of that composite alive, and the relay releases it only once it is written
   * to its socket (at the earliest when the read batch ends). The write-buffer water marks count
   * the frames' bytes, not what they keep alive. Two things made that differ without bound (a 64 MiB
   * matched download held 64 MiB of direct memory in the agent, and ended it):
   *
   * <ul>
   *   <li>The decoder drops consumed reads only while nothing shares the composite, and it checks
   *       at the end of a read and before the batch ends, while the read's own frames are still
   *       unflushed. A stream that arrives one read per batch (a sender slower than this reader)
   *       never had a read dropped until a read ended on a frame boundary. Here consumed reads go
   *       before the next read is added, once the frames holding them are released.
   *   <li>A read keeps its whole buffer: a 256 KiB buffer that received 16 KiB kept 256 KiB alive
   *       for 16 KiB of frames. A read less than half full is copied into a buffer of its size.
   * </ul>
   *
   * What unflushed frames keep alive is then at most about twice their bytes.
   */
  static final ByteToMessageDecoder.Cumulator RELAY_CUMULATOR =
      (alloc, cumulation, in) -> {
        if (cumulation instanceof CompositeByteBuf composite && composite.refCnt() == 1) {
          composite.discardReadComponents();
        }
        return ByteToMessageDecoder.COMPOSITE_CUMULATOR.cumulate(alloc, cumulation, compact(alloc, in));
      };

  /** {@code read}, or a copy of its bytes in a buffer of their size if it is less than half full. */
  static ByteBuf compact(ByteBufAllocator alloc, ByteBuf read) {
    int n = read.readableBytes();
    if (n == 0 || read.capacity() <= 2 * n) {
      return read;
    }
    try {
      return (read.isDirect() ? alloc.directBuffer(n, n) : alloc.heapBuffer(n, n)).writeBytes(read);
    } finally {
      read.release();
    }
  }

  /** Installs the handlers; every received message is a {@code Message} record. */
  public static void install(ChannelPipeline p, Side side, ChannelHandler session) {
    install(p, side, session, false);
  }

  /**
   * The flush consolidation of a protocol connection (first in its pipeline), also in front of any other relayed
   * socket that many writers flush (the agent's h2c connections of a filtered port, written by many streams): their
   * flushes reach the socket once per read batch or event-loop turn, as one {@code writev}.
   */
  public static FlushConsolidationHandler flushConsolidation() {
    return new FlushConsolidationHandler(FLUSH_CONSOLIDATION_LIMIT, true);
  }

  /**
   * As {@link #install}, for the processes that relay bytes (the agent's client connections, the
   * CLI's agent connection): a received {@code Tcp.Data} reaches {@code session} as a {@link
   * DataFrame}, a slice of the received bytes that the relay writes to its socket as it is, and the
   * frame decoder collects a frame that spans several reads as a composite of those reads instead
   * of copying each into one buffer. A chunk then crosses the process with no copy of its own: no
   * {@code byte[]} to allocate, zero and fill, and no copy back into a direct buffer to write it.
   * {@code session} must handle (or release) every {@code DataFrame}.
   */
  public static void installRelaying(ChannelPipeline p, Side side, ChannelHandler session) {
    install(p, side, session, true);
  }

  private static void install(ChannelPipeline p, Side side, ChannelHandler session, boolean relaying) {
    p.channel().config().setWriteBufferWaterMark(WATER_MARK);
    p.channel().config().setRecvByteBufAllocator(RECV_ALLOCATOR);
    if (p.channel() instanceof io.netty.channel.socket.SocketChannel) {
      // Every message is a request, an answer or a chunk someone waits for: never hold one back
      // for Nagle (the layer–CLI connection is TCP on loopback; a Kubernetes agent listens on TCP).
      p.channel().config().setOption(ChannelOption.TCP_NODELAY, true);
    }
    if (p.channel() instanceof io.netty.channel.socket.DuplexChannel
        && !(p.channel() instanceof io.netty.channel.socket.SocketChannel)) {
      // A duplex stream that is not TCP is a unix socket, NIO's or epoll's (told apart without
      // naming epoll's class, which the layer does not have). A unix socket's default send buffer (net.core.wmem_default, ~208 KiB) is smaller than one frame of a
      // 256 KiB chunk: every frame would wait for the reader. TCP sockets keep the kernel's autotuning.
      try {
        p.channel().config().setOption(ChannelOption.SO_SNDBUF, UNIX_SOCKET_BUFFER);
        p.channel().config().setOption(ChannelOption.SO_RCVBUF, UNIX_SOCKET_BUFFER);
      } catch (RuntimeException e) {
        // capped or refused by the kernel: the defaults still work, only slower
      }
    }
    p.addLast("flushConsolidation", flushConsolidation());
    LengthFieldBasedFrameDecoder frames = new LengthFieldBasedFrameDecoder(MAX_FRAME + 4, 0, 4, 0, 4, true);
    if (relaying) {
      frames.setCumulator(RELAY_CUMULATOR);
    }
    p.addLast("frameDecoder", frames);
    p.addLast("framePrepender", new LengthFieldPrepender(4));
    p.addLast("messageCodec", new MessageCodec(side, relaying));
    p.addLast("idle", new IdleStateHandler(READER_IDLE_SECONDS, WRITER_IDLE_SECONDS, 0));
    p.addLast("session", session);
  }
}
