package dev.mirrord.jvm.layer.socket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeerOpsTest {
  private static final InetSocketAddress REAL = new InetSocketAddress("198.18.0.100", 51234);

  @Test
  void aRecordedRelayPortMapsToTheRealClientAndLingersAfterItsRelayCloses() {
    PeerOps ops = new PeerOps(port -> port == 8080, LayerLog.discard());
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, new InetSocketAddress("127.0.0.1", 40000))).isEqualTo(REAL);
    ops.record(40000, null);
    assertThat(ops.realPeer(8080, new InetSocketAddress("127.0.0.1", 40000)))
        .as("a closed relay's peer lingers: a mirrored request may be read after its relay closed")
        .isEqualTo(REAL);
    assertThat(ops.realPeer(9999, new InetSocketAddress("127.0.0.1", 40001))).isNull();
  }

  @Test
  void anUnsubscribedPortNeverWaits() {
    PeerOps ops = new PeerOps(port -> false, LayerLog.discard());
    long t0 = System.nanoTime();
    assertThat(ops.realPeer(8080, new InetSocketAddress("127.0.0.1", 40000))).isNull();
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.MILLISECONDS.toNanos(PeerOps.WAIT_MILLIS));
  }

  @Test
  void aMissWaitsOnceThenIsRemembered() {
    PeerOps ops = new PeerOps(port -> port == 8080, LayerLog.discard());
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 40000);
    long t0 = System.nanoTime();
    assertThat(ops.realPeer(8080, local)).isNull();
    long first = System.nanoTime() - t0;
    t0 = System.nanoTime();
    assertThat(ops.realPeer(8080, local)).isNull();
    long second = System.nanoTime() - t0;
    assertThat(first).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(PeerOps.WAIT_MILLIS));
    assertThat(second).isLessThan(TimeUnit.MILLISECONDS.toNanos(PeerOps.WAIT_MILLIS));
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, local)).as("a late answer still counts").isEqualTo(REAL);
  }

  @Test
  void aLookupThatRacesTheMessageGetsTheAnswerWhenItArrives() throws Exception {
    PeerOps ops = new PeerOps(port -> port == 8080, LayerLog.discard());
    CompletableFuture<InetSocketAddress> f =
        CompletableFuture.supplyAsync(
            () -> ops.realPeer(8080, new InetSocketAddress("127.0.0.1", 40000)));
    Thread.sleep(5);
    ops.record(40000, REAL);
    assertThat(f.get(2, TimeUnit.SECONDS)).isEqualTo(REAL);
  }
}
