package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReadBatchTest {
  /** Counts the flushes that reach the socket. */
  private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
    int flushes;

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes++;
      ctx.flush();
    }
  }

  private final FlushCounter counter = new FlushCounter();
  private final EmbeddedChannel socket = new EmbeddedChannel(counter);

  @AfterEach
  void tearDown() {
    ReadBatch.end();
    assertThat(ReadBatch.active()).isFalse();
    assertThat(socket.finishAndReleaseAll()).isFalse();
  }

  @Test
  void outsideABatchAFlushIsImmediate() {
    socket.write(bytes("head"));
    ReadBatch.flush(socket);

    assertThat(counter.flushes).isEqualTo(1);
    assertText(socket.readOutbound()).isEqualTo("head");
  }

  @Test
  void inABatchTheSocketIsFlushedOnceAtItsEndInOrder() {
    ReadBatch.begin();
    socket.write(bytes("head"));
    ReadBatch.flush(socket);
    socket.write(bytes("body"));
    ReadBatch.flush(socket);
    ReadBatch.begin(); // the next message of the same batch
    socket.write(bytes("end"));
    ReadBatch.flush(socket);

    assertThat(counter.flushes).isZero();
    Object nothingYet = socket.readOutbound();
    assertThat(nothingYet).isNull();

    ReadBatch.end();

    assertThat(counter.flushes).isEqualTo(1);
    assertText(socket.readOutbound()).isEqualTo("head");
    assertText(socket.readOutbound()).isEqualTo("body");
    assertText(socket.readOutbound()).isEqualTo("end");
  }

  @Test
  void afterTheBatchFlushesAreImmediateAgain() {
    ReadBatch.begin();
    ReadBatch.end();
    socket.write(bytes("late"));
    ReadBatch.flush(socket);

    assertThat(counter.flushes).isEqualTo(1);
    assertText(socket.readOutbound()).isEqualTo("late");
  }

  @Test
  void aDirectFlushInTheBatchStillWritesEverythingBeforeIt() {
    ReadBatch.begin();
    socket.write(bytes("head"));
    ReadBatch.flush(socket);
    socket.writeAndFlush(Unpooled.EMPTY_BUFFER); // e.g. before a shutdown or a close

    assertText(socket.readOutbound()).isEqualTo("head");
    assertText(socket.readOutbound()).isEmpty();
    ReadBatch.end();
  }

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  private static org.assertj.core.api.AbstractStringAssert<?> assertText(Object msg) {
    ByteBuf b = (ByteBuf) msg;
    try {
      return assertThat(b.toString(StandardCharsets.US_ASCII));
    } finally {
      b.release();
    }
  }
}
