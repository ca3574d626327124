package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpSnifferTest {
  private final FakePacketSource source = new FakePacketSource();
  private TcpSniffer sniffer;
  private final Conversation c = new Conversation("10.2.0.2", 40000, "10.2.0.1", 8080, 77);

  @BeforeEach
  void start() {
    sniffer = TcpSniffer.start(source, TcpFlowTracker.Config.defaults());
  }

  @AfterEach
  void stop() {
    sniffer.close();
  }

  private void inject(byte[]... packets) {
    for (byte[] packet : packets) {
      source.inject(packet);
    }
  }

  @Test
  void everySubscriberOfAPortGetsEveryFlowUnderOneConnectionId() throws IOException {
    RecordingSubscriber first = new RecordingSubscriber();
    RecordingSubscriber second = new RecordingSubscriber();
    sniffer.subscribe(8080, first);
    sniffer.subscribe(8080, second);

    inject(c.syn(), c.data(3, "def"), c.data(0, "abc"), c.fin(6));

    for (RecordingSubscriber s : new RecordingSubscriber[] {first, second}) {
      await().atMost(Duration.ofSeconds(5)).until(() -> s.calls.size() == 2);
      assertThat(s.calls).containsExactly("new 1 " + c.key, "closed 1");
      assertThat(s.text(1)).isEqualTo("abcdef");
      assertThat(s.threads).containsOnly(TcpSniffer.THREAD_NAME);
    }
  }

  @Test
  void connectionIdsAreUniqueAcrossPortsAndFlows() throws IOException {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    sniffer.subscribe(8080, subscriber);
    sniffer.subscribe(9090, subscriber);
    Conversation d = new Conversation("10.2.0.3", 40000, "10.2.0.1", 9090, 5);
    Conversation e = new Conversation("10.2.0.3", 40001, "10.2.0.1", 8080, 5);

    inject(c.syn(), d.syn(), e.syn());

    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.flows.size() == 3);
    assertThat(subscriber.flows.keySet()).containsExactlyInAnyOrder(1L, 2L, 3L);
    assertThat(subscriber.flows.values()).containsExactlyInAnyOrder(c.key, d.key, e.key);
  }

  @Test
  void theKernelFilterFollowsTheSubscribedPorts() throws IOException {
    RecordingSubscriber a = new RecordingSubscriber();
    RecordingSubscriber b = new RecordingSubscriber();
    sniffer.subscribe(8080, a);
    sniffer.subscribe(8080, b); // same port set: no filter change
    sniffer.subscribe(8080, a); // twice: no-op
    sniffer.subscribe(9090, b);
    sniffer.unsubscribe(8080, a);
    sniffer.unsubscribeAll(b);

    assertThat(source.filterHistory).containsExactly(Set.of(8080), Set.of(8080, 9090), Set.of());
    assertThat(sniffer.ports()).isEmpty();
    assertThat(source.inject(c.syn())).as("nothing subscribed: the filter drops it").isFalse();
  }

  @Test
  void anUnsubscribedSubscriberGetsNoFurtherCalls() throws IOException {
    RecordingSubscriber leaving = new RecordingSubscriber();
    RecordingSubscriber staying = new RecordingSubscriber();
    sniffer.subscribe(8080, leaving);
    sniffer.subscribe(8080, staying);
    inject(c.syn(), c.data(0, "abc"));
    await().atMost(Duration.ofSeconds(5)).until(() -> staying.text(1).equals("abc"));
    await().atMost(Duration.ofSeconds(5)).until(() -> leaving.text(1).equals("abc"));

    sniffer.unsubscribe(8080, leaving);
    inject(c.data(3, "def"), c.fin(6));

    await().atMost(Duration.ofSeconds(5)).until(() -> staying.calls.contains("closed 1"));
    assertThat(staying.text(1)).isEqualTo("abcdef");
    assertThat(leaving.text(1)).isEqualTo("abc");
    assertThat(leaving.calls).containsExactly("new 1 " + c.key);
  }

  @Test
  void connectionsOpenBeforeASubscriptionAreNotMirroredToIt() throws IOException {
    RecordingSubscriber early = new RecordingSubscriber();
    sniffer.subscribe(8080, early);
    inject(c.syn(), c.data(0, "abc"));
    await().atMost(Duration.ofSeconds(5)).until(() -> early.text(1).equals("abc"));

    RecordingSubscriber late = new RecordingSubscriber();
    sniffer.subscribe(8080, late);
    Conversation next = new Conversation("10.2.0.9", 40000, "10.2.0.1", 8080, 1);
    inject(c.data(3, "def"), next.syn(), c.fin(6));

    await().atMost(Duration.ofSeconds(5)).until(() -> early.calls.contains("closed 1"));
    await().atMost(Duration.ofSeconds(5)).until(() -> late.calls.size() == 1);
    assertThat(late.calls).containsExactly("new 2 " + next.key);
  }

  /**
   * IPv6 from a client on the lab's ULA, part of the stream behind hop-by-hop and destination
   * options headers (as IPv6 BIG TCP or an application's IPV6_HOPOPTS/IPV6_DSTOPTS send them): the
   * kernel filter keeps every packet that carries bytes, and the subscriber gets the client's IPv6
   * address and the whole stream.
   */
  @Test
  void ipv6FlowsPassTheFilterWithOrWithoutExtensionHeaders() throws IOException {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    sniffer.subscribe(8080, subscriber);
    Conversation plain = new Conversation("fd00:198:18::100", 40000, "fd00:198:18::10", 8080, -3);
    Conversation extended =
        new Conversation("fd00:198:18::100", 40000, "fd00:198:18::10", 8080, -3)
            .withIpv6ExtensionHeaders(TcpSegment.IPV6_HOP_BY_HOP, TcpSegment.IPV6_DESTINATION_OPTIONS);

    assertThat(source.inject(plain.syn())).isTrue();
    assertThat(source.inject(extended.data(0, "GET / HTTP/1.1\r\n"))).isTrue();
    assertThat(source.inject(extended.serverAck(16))).as("a pure ACK: dropped").isFalse();
    assertThat(source.inject(plain.data(16, "Host: pod\r\n\r\n"))).isTrue();
    assertThat(source.inject(extended.fin(29))).isTrue();

    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.calls.size() == 2);
    assertThat(subscriber.calls).containsExactly("new 1 " + plain.key, "closed 1");
    assertThat(subscriber.flows.get(1L).sourceAddress().getHostAddress()).isEqualTo("fd00:198:18:0:0:0:0:100");
    assertThat(subscriber.text(1)).isEqualTo("GET / HTTP/1.1\r\nHost: pod\r\n\r\n");
  }

  @Test
  void theTargetsOwnOutgoingConnectionsAreNotMirrored() throws IOException {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    sniffer.subscribe(8080, subscriber);
    Conversation incoming = new Conversation("10.2.0.7", 40000, "10.2.0.1", 8080, 1);
    source.inject(c.syn(), CapturedPacket.PacketType.OUTGOING);
    inject(incoming.syn());

    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.calls.size() == 1);
    assertThat(subscriber.calls).containsExactly("new 1 " + incoming.key);
  }

  @Test
  void aDroppedFlowIsClosedWithReset() throws IOException {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    sniffer.subscribe(8080, subscriber);
    // The kernel filter drops the server's pure ACKs; its answer carries the same ACK number.
    assertThat(source.inject(c.serverAck(6))).isFalse();
    inject(c.syn(), c.data(0, "abc"), c.serverData(6, "HTTP/1.1 200 OK"));
    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.calls.contains("reset 1"));
  }

  @Test
  void aSubscriberThatThrowsIsUnsubscribedAndOthersCarryOn() throws IOException {
    RecordingSubscriber healthy = new RecordingSubscriber();
    SnifferSubscriber broken =
        new SnifferSubscriber() {
          @Override
          public void newConnection(long connectionId, FlowKey flow) {
            throw new IllegalStateException("broken on purpose");
          }

          @Override
          public void data(long connectionId, byte[] bytes) {}

          @Override
          public void closed(long connectionId, boolean reset) {}
        };
    sniffer.subscribe(8080, broken);
    sniffer.subscribe(8080, healthy);
    sniffer.subscribe(9090, broken);

    inject(c.syn(), c.data(0, "abc"), c.fin(3));

    await().atMost(Duration.ofSeconds(5)).until(() -> healthy.calls.contains("closed 1"));
    assertThat(healthy.text(1)).isEqualTo("abc");
    assertThat(sniffer.ports()).containsExactly(8080);
  }

  @Test
  void segmentsOfOneConnectionReadTogetherAreHandedOutAsOneCallBeforeItsEnd() throws IOException {
    RecordingSubscriber subscriber = new RecordingSubscriber();
    sniffer.subscribe(8080, subscriber);
    Conversation d = new Conversation("10.2.0.3", 40001, "10.2.0.1", 8080, 500);
    inject(c.syn(), d.syn());
    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.events.size() == 2);

    source.injectBatch(
        c.data(0, "GET /a "),
        d.data(0, "GET /b "),
        c.data(7, "GET /c "),
        c.serverData(14, "HTTP/1.1 200 OK"),
        d.data(7, "GET /d "),
        c.fin(14),
        d.data(14, "GET /e "));

    await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.events.size() == 5);
    assertThat(subscriber.events)
        .containsExactly(
            "new 1", "new 2", "data 1 GET /a GET /c ", "closed 1", "data 2 GET /b GET /d GET /e ");
  }

  @Test
  void aBatchIsHandedOutInCallsOfAtMostMaxChunkBytes() throws IOException {
    FakePacketSource small = new FakePacketSource();
    try (TcpSniffer chunked =
        TcpSniffer.start(small, TcpFlowTracker.Config.defaults().withMaxChunk(8))) {
      RecordingSubscriber subscriber = new RecordingSubscriber();
      chunked.subscribe(8080, subscriber);
      small.inject(c.syn());

      small.injectBatch(c.data(0, "abc"), c.data(3, "def"), c.data(6, "gh"), c.data(8, "ijklm"));

      await().atMost(Duration.ofSeconds(5)).until(() -> subscriber.text(1).length() == 13);
      assertThat(subscriber.events).containsExactly("new 1", "data 1 abcdefgh", "data 1 ijklm");
    }
  }

  @Test
  void aFailedFilterUpdateUndoesTheSubscription() {
    source.failNextSetPorts(new ErrnoException("setsockopt", 12, "Cannot allocate memory"));
    RecordingSubscriber subscriber = new RecordingSubscriber();

    assertThatThrownBy(() -> sniffer.subscribe(8080, subscriber))
        .isInstanceOf(ErrnoException.class)
        .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(12));
    assertThat(sniffer.ports()).isEmpty();
  }

  @Test
  void closeStopsTheThreadAndClosesTheSource() {
    assertThat(Thread.getAllStackTraces().keySet())
        .anyMatch(t -> t.getName().equals(TcpSniffer.THREAD_NAME) && !t.isVirtual());
    sniffer.close();
    assertThat(source.closed()).isTrue();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().equals(TcpSniffer.THREAD_NAME)));
  }
}
