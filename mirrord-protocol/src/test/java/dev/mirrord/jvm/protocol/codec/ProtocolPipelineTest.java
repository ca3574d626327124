package dev.mirrord.jvm.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProtocolPipelineTest {
  private static final int FRAMES = 100;
  private static final int PAYLOAD = 3000;
  /** Reads that never end on a frame boundary (a frame is 3 018 bytes on the wire). */
  private static final int READ = 4096;

  /**
   * A relay holds each {@code DataFrame} until the end of the read batch (its flush), one read per
   * batch: the reads already consumed must be let go once their frames are, not kept by the frame
   * decoder's composite until the stream stops (a 64 MiB matched download once held ~64 MiB).
   */
  @Test
  void aRelayedStreamReadOnceABatchKeepsOnlyTheReadsItStillNeeds() {
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    byte[] bytes = stream(FRAMES, sent);
    List<DataFrame> unflushed = new ArrayList<>();
    EmbeddedChannel agent = relaying(unflushed);

    List<ByteBuf> reads = new ArrayList<>();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    for (int at = 0; at < bytes.length; at += READ) {
      ByteBuf read = Unpooled.directBuffer(READ).writeBytes(bytes, at, Math.min(READ, bytes.length - at));
      reads.add(read);
      agent.writeInbound(read); // one read, then the batch's end
      for (DataFrame f : unflushed) { // the relay's flush at the end of the batch
        received.writeBytes(ByteBufUtil.getBytes(f.content()));
        f.release();
      }
      unflushed.clear();
      if (reads.size() > 2) {
        assertThat(reads.get(reads.size() - 3).refCnt())
            .as("read %d of %d, two reads later", reads.size() - 3, bytes.length / READ + 1)
            .isZero();
      }
    }
    assertThat(received.toByteArray()).isEqualTo(sent.toByteArray());
    agent.finishAndReleaseAll();
    assertThat(reads).allMatch(r -> r.refCnt() == 0, "every read released once the connection ends");
  }

  /**
   * Frames that wait for a slow socket keep at most about twice their bytes alive, whatever the size
   * of the buffers the reads came in (a 256 KiB read buffer that received 8 KiB kept 256 KiB).
   */
  @Test
  void unflushedFramesKeepAboutTheirOwnSizeAliveNotTheirReadBuffers() {
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true, true, false);
    byte[] bytes = stream(2000, new ByteArrayOutputStream());
    List<DataFrame> unflushed = new ArrayList<>();
    EmbeddedChannel agent = relaying(unflushed);
    agent.config().setAllocator(alloc);
    ArrayDeque<List<DataFrame>> socket = new ArrayDeque<>(); // written, not yet sent
    int pendingReads = 64;
    int smallRead = 8 * 1024;
    long most = 0;
    long pendingAtMost = 0;
    for (int at = 0; at < bytes.length; at += smallRead) {
      ByteBuf read = alloc.directBuffer(Tcp.MAX_CHUNK).writeBytes(bytes, at, Math.min(smallRead, bytes.length - at));
      agent.writeInbound(read);
      socket.add(new ArrayList<>(unflushed));
      unflushed.clear();
      if (socket.size() > pendingReads) {
        socket.poll().forEach(DataFrame::release); // the socket took the oldest
      }
      long pending = socket.stream().flatMap(List::stream).mapToLong(DataFrame::size).sum();
      long used = alloc.metric().usedDirectMemory();
      if (used > most) {
        most = used;
        pendingAtMost = pending;
      }
    }
    assertThat(most)
        .as("direct memory alive at most (%d bytes of frames unsent then)", pendingAtMost)
        .isLessThanOrEqualTo(2 * pendingReads * smallRead + 2L * Tcp.MAX_CHUNK);
    socket.forEach(l -> l.forEach(DataFrame::release));
    agent.finishAndReleaseAll();
    assertThat(alloc.metric().usedDirectMemory()).isZero();
  }

  /** {@code frames} Tcp.Data frames on the wire, each of its own byte; their payloads go to {@code sent}. */
  private static byte[] stream(int frames, ByteArrayOutputStream sent) {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    for (int i = 0; i < frames; i++) {
      byte[] payload = new byte[PAYLOAD];
      Arrays.fill(payload, (byte) i);
      sent.writeBytes(payload);
      wire.writeBytes(MessageCodecTest.frameOf(new Tcp.Data(7, Payload.wrap(payload)), Side.CLIENT));
    }
    return wire.toByteArray();
  }

  /** The agent's end of a relaying protocol connection; the frames it receives go to {@code received}. */
  private static EmbeddedChannel relaying(List<DataFrame> received) {
    EmbeddedChannel agent = new EmbeddedChannel();
    ProtocolPipeline.installRelaying(agent.pipeline(), Side.AGENT, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        received.add((DataFrame) msg);
      }
    });
    return agent;
  }
}
