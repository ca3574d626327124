package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TcpRelayTest {
  private final List<Message> sent = new ArrayList<>();
  private boolean peerWritable = true;
  private int ends;

  private TcpRelay relay(long id) {
    return new TcpRelay(id, new TcpRelay.Peer() {
      @Override
      public void send(Message m) {
        sent.add(m);
      }

      @Override
      public boolean writable() {
        return peerWritable;
      }
    }) {
      @Override
      protected void ended() {
        ends++;
      }
    };
  }

  private static Tcp.Data data(long id, int size) {
    return new Tcp.Data(id, Payload.wrap(new byte[size]));
  }

  @Test
  void whatThePeerSendsBeforeAttachIsKeptInOrderAndTooMuchPausesThePeer() {
    TcpRelay r = relay(7);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    r.fromPeer(data(7, TcpRelay.EARLY_PAUSE_BYTES));
    assertThat(sent).isEmpty();
    r.fromPeer(data(7, 1));
    assertThat(sent).containsExactly(new Tcp.Flow(7, true));
    r.fromPeer(new Tcp.Shutdown(7));

    r.attach(ch);

    assertThat(sent).first().isEqualTo(new Tcp.Flow(7, true));
    assertThat(sent).last().as("the peer ends resumed: %s", sent).isEqualTo(new Tcp.Flow(7, false));
    assertThat(sent).allMatch(m -> m instanceof Tcp.Flow);
    ByteBuf first = ch.readOutbound();
    ByteBuf second = ch.readOutbound();
    assertThat(first.readableBytes()).isEqualTo(TcpRelay.EARLY_PAUSE_BYTES);
    assertThat(second.readableBytes()).isEqualTo(1);
    first.release();
    second.release();
    assertThat(ch.config().isAutoRead()).isTrue();
  }

  @Test
  void socketBytesAreCutIntoChunksAndItsEndIsReportedOnce() {
    TcpRelay r = relay(9);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    r.attach(ch);

    ch.writeInbound(Unpooled.wrappedBuffer(new byte[Tcp.MAX_CHUNK + 10]));
    ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    ch.close();

    assertThat(sent).hasSize(4);
    assertThat(((Tcp.Data) sent.get(0)).bytes().size()).isEqualTo(Tcp.MAX_CHUNK);
    assertThat(((Tcp.Data) sent.get(1)).bytes().size()).isEqualTo(10);
    assertThat(sent.subList(2, 4)).containsExactly(new Tcp.Shutdown(9), new Tcp.Close(9, false));
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void aBusyPeerStopsReadingAndAFlowPauseToo() {
    TcpRelay r = relay(3);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    r.attach(ch);
    peerWritable = false;
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[5]));
    assertThat(ch.config().isAutoRead()).isFalse();

    peerWritable = true;
    r.updateAutoRead();
    assertThat(ch.config().isAutoRead()).isTrue();

    r.fromPeer(new Tcp.Flow(3, true));
    assertThat(ch.config().isAutoRead()).isFalse();
    r.fromPeer(new Tcp.Flow(3, false));
    assertThat(ch.config().isAutoRead()).isTrue();
  }

  @Test
  void thePeersCloseClosesTheSocketWithoutEchoingAClose() {
    TcpRelay r = relay(4);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    r.attach(ch);
    r.fromPeer(data(4, 3));
    r.fromPeer(new Tcp.Close(4, false));
    ch.runPendingTasks();

    assertThat(ch.isOpen()).isFalse();
    ByteBuf written = ch.readOutbound();
    assertThat(written.readableBytes()).isEqualTo(3);
    written.release();
    assertThat(sent).isEmpty();
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void anErrorResetsThePeersSide() {
    TcpRelay r = relay(5);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    r.attach(ch);
    ch.pipeline().fireExceptionCaught(new java.io.IOException("boom"));
    assertThat(sent).containsExactly(new Tcp.Close(5, true));
    assertThat(ch.isOpen()).isFalse();
    assertThat(ends).isEqualTo(1);
  }

  @Test
  void aDataFrameIsWrittenToTheSocketAsItIsEarlyOrLate() {
    TcpRelay r = relay(6);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    ByteBuf early = Unpooled.directBuffer(8).writeLong(1);
    ByteBuf late = Unpooled.directBuffer(8).writeLong(2);
    r.fromPeer(new DataFrame(6, early));
    r.attach(ch);
    r.fromPeer(new DataFrame(6, late));

    assertThat((Object) ch.readOutbound()).as("no copy").isSameAs(early);
    assertThat((Object) ch.readOutbound()).isSameAs(late);
    early.release();
    late.release();
  }

  @Test
  void framesKeptForASocketThatNeverComesAndFramesAfterTheEndAreReleased() {
    TcpRelay r = relay(8);
    EmbeddedChannel ch = new EmbeddedChannel(r);
    ByteBuf kept = Unpooled.directBuffer(4).writeInt(1);
    r.fromPeer(new DataFrame(8, kept));
    r.abandon();
    assertThat(kept.refCnt()).isZero();
    assertThat(ends).isEqualTo(1);

    ByteBuf after = Unpooled.directBuffer(4).writeInt(2);
    r.fromPeer(new DataFrame(8, after));
    assertThat(after.refCnt()).isZero();
    assertThat((Object) ch.readOutbound()).isNull();
  }
}
