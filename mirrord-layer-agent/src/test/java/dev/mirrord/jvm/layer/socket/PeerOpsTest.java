package dev.mirrord.jvm.layer.socket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeerOpsTest {
  private static final InetSocketAddress REAL = new InetSocketAddress("198.18.0.100", 51234);
  private static final InetSocketAddress REAL2 = new InetSocketAddress("198.18.0.101", 40404);
  private static final String RELAY = "127.83.4.19";
  private static final RelaySource RELAYS = RelaySource.of(RELAY, 20000, 20255);
  private static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(PeerOps.WAIT_MILLIS);

  private final AtomicInteger drains = new AtomicInteger();

  private PeerOps ops(int subscribedPort) {
    return new PeerOps(RELAYS, port -> port == subscribedPort, t -> drains.incrementAndGet(), LayerLog.discard());
  }

  private static InetSocketAddress relay(int port) {
    return new InetSocketAddress(RELAY, port);
  }

  private static long nanosOf(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return System.nanoTime() - t0;
  }

  @Test
  void aLocalClientOnASubscribedPortIsAnsweredAtOnceWhateverItsSourcePort() {
    PeerOps ops = ops(8080);
    ops.record(40000, REAL); // a relay on the same port number, from the session's address
    for (String local : new String[] {"127.0.0.1", "127.0.1.1", "::1", "::ffff:127.0.0.1"}) {
      long nanos = nanosOf(() ->
          assertThat(ops.realPeer(8080, new InetSocketAddress(local, 40000))).as(local).isNull());
      assertThat(nanos).as("no wait for " + local).isLessThan(WAIT_NANOS / 10);
    }
    assertThat(ops.realPeer(8080, relay(40000))).isEqualTo(REAL);
    assertThat(drains).as("open relays need no drain").hasValue(0);
  }

  @Test
  void anotherSessionsRelayAddressIsNotOurs() {
    PeerOps ops = ops(8080);
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, new InetSocketAddress("127.83.4.20", 40000))).isNull();
  }

  @Test
  void aDualStackListenerSeesTheRelayIpv4Mapped() throws Exception {
    PeerOps ops = ops(8080);
    ops.record(40000, REAL);
    // As Netty's native transport reports it: an Inet6Address, not turned into IPv4.
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(InetAddress.getByName(RELAY).getAddress(), 0, mapped, 12, 4);
    InetAddress v6 = java.net.Inet6Address.getByAddress(null, mapped, -1);
    assertThat(v6).isInstanceOf(java.net.Inet6Address.class);
    assertThat(ops.realPeer(8080, new InetSocketAddress(v6, 40000))).isEqualTo(REAL);
  }

  @Test
  void anIpv6OnlyListenerKnowsItsRelaysByTheirSourcePortRange() {
    PeerOps ops = ops(8080);
    ops.record(20007, REAL);
    assertThat(ops.realPeer(8080, new InetSocketAddress("::1", 20007))).isEqualTo(REAL);
    long nanos = nanosOf(() ->
        assertThat(ops.realPeer(8080, new InetSocketAddress("::1", 45000))).isNull());
    assertThat(nanos).as("a local IPv6 client outside the range never waits").isLessThan(WAIT_NANOS / 10);
  }

  @Test
  void aRecordedRelayPortMapsToTheRealClientAndLingersAfterItsRelayCloses() {
    PeerOps ops = ops(8080);
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, relay(40000))).isEqualTo(REAL);
    ops.record(40000, null);
    assertThat(ops.realPeer(8080, relay(40000)))
        .as("a closed relay's peer lingers: a mirrored request may be read after its relay closed")
        .isEqualTo(REAL);
    assertThat(drains).as("after letting the connection catch up with a reuse of the port").hasValue(1);
  }

  @Test
  void aReusedRelayPortWhoseNewMappingIsStillInTheSocketGetsTheNewPeer() {
    InetSocketAddress[] inFlight = {REAL2};
    PeerOps[] self = new PeerOps[1];
    // The drain reads what reached the layer's socket: here, the new relay's IncomingPeer.
    PeerOps ops = new PeerOps(RELAYS, p -> p == 8080, t -> self[0].record(40000, inFlight[0]),
        LayerLog.discard());
    self[0] = ops;
    ops.record(40000, REAL);
    ops.record(40000, null);
    assertThat(ops.realPeer(8080, relay(40000))).isEqualTo(REAL2);
  }

  @Test
  void anOutgoingFlowsSocketSeesTheAddressItAskedForWithoutWaiting() {
    PeerOps ops = ops(8080);
    InetSocketAddress requested = new InetSocketAddress("198.18.0.20", 5432);
    ops.record(new InetSocketAddress(RELAY, 41000), requested);
    assertThat(ops.realPeer(50123, relay(41000))).isEqualTo(requested);
    long nanos = nanosOf(() -> assertThat(ops.realPeer(50124, relay(41001))).isNull());
    assertThat(nanos).as("not a subscribed port: never waits").isLessThan(WAIT_NANOS / 10);
  }

  @Test
  void anOutgoingEndpointOnAnotherLoopbackAddressCountsAsTheClis() {
    PeerOps ops = ops(8080);
    InetSocketAddress requested = new InetSocketAddress("198.18.0.20", 5432);
    ops.record(new InetSocketAddress("127.0.0.1", 41000), requested);
    assertThat(ops.realPeer(50123, new InetSocketAddress("127.0.0.1", 41000))).isEqualTo(requested);
  }

  @Test
  void aRelayWhoseMappingNeverComesWaitsOnceThenIsRemembered() {
    PeerOps ops = ops(8080);
    long first = nanosOf(() -> assertThat(ops.realPeer(8080, relay(40000))).isNull());
    long second = nanosOf(() -> assertThat(ops.realPeer(8080, relay(40000))).isNull());
    assertThat(first).isGreaterThanOrEqualTo(WAIT_NANOS);
    assertThat(second).isLessThan(WAIT_NANOS);
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, relay(40000))).as("a late answer still counts").isEqualTo(REAL);
  }

  @Test
  void aLookupThatRacesTheMessageGetsTheAnswerWhenItArrives() throws Exception {
    PeerOps ops = ops(8080);
    CompletableFuture<InetSocketAddress> f =
        CompletableFuture.supplyAsync(() -> ops.realPeer(8080, relay(40000)));
    Thread.sleep(5);
    ops.record(40000, REAL);
    assertThat(f.get(2, TimeUnit.SECONDS)).isEqualTo(REAL);
  }

  @Test
  void withALegacySessionFileRelaysComeFrom127001() {
    PeerOps ops = new PeerOps(RelaySource.LEGACY, p -> p == 8080, PeerOps.InboundDrain.NONE, LayerLog.discard());
    ops.record(40000, REAL);
    assertThat(ops.realPeer(8080, new InetSocketAddress("127.0.0.1", 40000))).isEqualTo(REAL);
    assertThat(ops.realPeer(8080, relay(40000))).isNull();
  }
}
