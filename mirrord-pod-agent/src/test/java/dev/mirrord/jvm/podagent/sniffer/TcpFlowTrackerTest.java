package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TcpFlowTrackerTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final RecordingFlowListener listener = new RecordingFlowListener();
  private TcpFlowTracker tracker;
  private final Conversation c = new Conversation("10.1.0.2", 40000, "10.1.0.1", 8080, 1000);
  private long now = 5 * SECOND;

  @BeforeEach
  void subscribe() {
    tracker = newTracker(TcpFlowTracker.Config.defaults());
  }

  private TcpFlowTracker newTracker(TcpFlowTracker.Config config) {
    TcpFlowTracker created = new TcpFlowTracker(config, listener);
    created.setPorts(Set.of(8080));
    return created;
  }

  private void feed(byte[]... packets) {
    for (byte[] packet : packets) {
      tracker.onPacket(packet, now);
    }
  }

  @Test
  void inOrderSegmentsAreDeliveredAndTheClientFinClosesTheFlow() {
    feed(
        c.syn(),
        c.synAck(),
        c.data(0, "GET / HTTP/1.1\r\n"),
        c.serverAck(16),
        c.data(16, "Host: x\r\n\r\n"),
        c.fin(27));

    assertThat(listener.text(c.key)).isEqualTo("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
    assertThat(tracker.activeFlows()).isZero();
  }

  @Test
  void outOfOrderSegmentsAreDeliveredInOrder() {
    feed(c.syn(), c.data(10, "KLMNO"), c.data(5, "FGHIJ"), c.fin(15));
    assertThat(listener.text(c.key)).isEmpty();
    assertThat(tracker.counters().bufferedBytes()).isEqualTo(10);

    feed(c.data(0, "ABCDE"));

    assertThat(listener.text(c.key)).isEqualTo("ABCDEFGHIJKLMNO");
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
    assertThat(tracker.counters().bufferedBytes()).isZero();
  }

  @Test
  void retransmissionsAreDeliveredOnce() {
    feed(
        c.syn(),
        c.syn(),
        c.data(0, "abc"),
        c.data(0, "abc"),
        c.data(3, "def"),
        c.data(0, "abcdef"),
        c.data(6, "gh"),
        c.data(6, "gh"),
        c.data(3, "def"));

    assertThat(listener.text(c.key)).isEqualTo("abcdefgh");
    assertThat(tracker.counters().duplicateSegments()).isEqualTo(4);
    assertThat(listener.events).containsExactly("opened " + c.key);
  }

  @Test
  void overlappingBytesKeepTheirFirstCopy() {
    feed(c.syn(), c.data(4, "4567"), c.data(10, "AB"));
    // Covers 2..13: 4..7 and 10..11 are already buffered and win; 2,3,8,9,12 are new.
    feed(c.data(2, "xxXXXXyyYYz"));
    feed(c.data(0, "01"));

    assertThat(listener.text(c.key)).isEqualTo("01xx4567yyABz");

    // A retransmission overlapping delivered bytes only adds the new tail.
    feed(c.data(10, "??zNEW"));
    assertThat(listener.text(c.key)).isEqualTo("01xx4567yyABzNEW");
  }

  @ParameterizedTest(name = "ISN {0}")
  @ValueSource(ints = {0xfffffff0, 0xffffffff, 0xfffffffe, 0x7ffffff8})
  void sequenceNumbersWrapAround(int isn) {
    Conversation w = new Conversation("10.1.0.2", 40001, "10.1.0.1", 8080, isn);
    feed(
        w.syn(),
        w.data(10, "klmnopqrst"),
        w.data(0, "abcdefghij"),
        w.data(20, "uvwxyz"),
        w.data(5, "fghijklmno"),
        w.fin(26),
        w.serverAck(27));

    assertThat(listener.text(w.key)).isEqualTo("abcdefghijklmnopqrstuvwxyz");
    assertThat(listener.events).containsExactly("opened " + w.key, "closed " + w.key);
  }

  @Test
  void connectionsOpenedBeforeTheSubscriptionAreIgnored() {
    feed(c.data(0, "middle of a stream"), c.serverAck(18), c.fin(18));

    assertThat(listener.events).isEmpty();
    assertThat(tracker.activeFlows()).isZero();
    assertThat(tracker.counters().untrackedSegments()).isEqualTo(3);
  }

  @Test
  void anOutgoingSynIsTheTargetConnectingOutAndOpensNoFlow() {
    tracker.onPacket(c.syn(), true, now);
    feed(c.data(0, "abc"));
    assertThat(listener.events).isEmpty();
    assertThat(tracker.counters().untrackedSegments()).isEqualTo(2);
  }

  @Test
  void synsToOtherPortsAndSynAcksDoNotOpenFlows() {
    Conversation other = new Conversation("10.1.0.2", 40000, "10.1.0.1", 9090, 1);
    feed(other.syn(), c.synAck());
    assertThat(listener.events).isEmpty();
  }

  @Test
  void aFinWaitsForTheBytesBeforeIt() {
    feed(c.syn(), c.data(0, "abc"), c.dataFin(6, "ghi"));
    assertThat(listener.events).containsExactly("opened " + c.key);

    feed(c.data(3, "def"));

    assertThat(listener.text(c.key)).isEqualTo("abcdefghi");
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
  }

  @Test
  void theServersFinAloneKeepsTheClientStreamOpen() {
    feed(c.syn(), c.data(0, "abc"), c.serverFin(3), c.data(3, "def"));
    assertThat(listener.events).containsExactly("opened " + c.key);
    assertThat(listener.text(c.key)).isEqualTo("abcdef");

    feed(c.fin(6));
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
  }

  @ParameterizedTest(name = "from the server: {0}")
  @ValueSource(booleans = {false, true})
  void anRstFromEitherSideResetsTheFlow(boolean fromServer) {
    feed(c.syn(), c.data(0, "abc"), c.data(6, "ghi"));
    feed(fromServer ? c.serverRst() : c.rst(3));

    assertThat(listener.text(c.key)).isEqualTo("abc");
    assertThat(listener.events).containsExactly("opened " + c.key, "reset " + c.key);
    assertThat(tracker.counters().bufferedBytes()).isZero();
    feed(c.data(3, "def"));
    assertThat(listener.text(c.key)).isEqualTo("abc");
  }

  @Test
  void aGapThatNeverFillsDropsTheFlowAfterTheGapTimeout() {
    tracker =
        newTracker(
            TcpFlowTracker.Config.defaults()
                .withTimeouts(Duration.ofSeconds(10), Duration.ofMinutes(10)));
    feed(c.syn(), c.data(0, "abc"), c.data(6, "ghi"));
    long gapStart = now;
    now += 8 * SECOND;
    feed(c.data(9, "jkl")); // more data after the gap doesn't fill it
    tracker.expire(gapStart + 9 * SECOND);
    assertThat(listener.events).containsExactly("opened " + c.key);

    tracker.expire(gapStart + 10 * SECOND);

    assertThat(listener.events).hasSize(2);
    assertThat(listener.events.get(1)).startsWith("dropped " + c.key + ": missing bytes at");
    assertThat(tracker.activeFlows()).isZero();
    assertThat(tracker.counters().bufferedBytes()).isZero();
  }

  @Test
  void progressRestartsTheGapClock() {
    feed(c.syn(), c.data(3, "d"), c.data(6, "g"));
    now += 8 * SECOND;
    feed(c.data(0, "abc")); // fills the first gap; "ef" is still missing
    tracker.expire(now + 9 * SECOND);
    assertThat(listener.events).containsExactly("opened " + c.key);
    feed(c.data(4, "ef"));
    assertThat(listener.text(c.key)).isEqualTo("abcdefg");
  }

  @Test
  void aFinWhoseBytesNeverArriveIsDroppedToo() {
    feed(c.syn(), c.fin(5));
    tracker.expire(now + 10 * SECOND);
    assertThat(listener.events.getLast()).startsWith("dropped " + c.key);
  }

  @Test
  void anAckForBytesTheCaptureMissedDropsTheFlowAtOnce() {
    feed(c.syn(), c.synAck(), c.data(0, "abc"), c.serverAck(3), c.data(6, "ghi"));
    assertThat(listener.events).containsExactly("opened " + c.key);

    feed(c.serverAck(9)); // the server got "def"; we never will

    assertThat(listener.events.getLast())
        .isEqualTo("dropped " + c.key + ": the server acknowledged 6 bytes the capture never saw");
  }

  @Test
  void theServersAnswerRevealsBytesTheCaptureMissedAsItsPureAckWould() {
    // The kernel filter drops pure ACKs (TcpPortFilter); the ACK number rides on the answer.
    feed(c.syn(), c.synAck(), c.data(0, "abc"), c.data(6, "ghi"));
    assertThat(listener.events).containsExactly("opened " + c.key);

    feed(c.serverData(9, "HTTP/1.1 200 OK\r\n"));

    assertThat(listener.text(c.key)).isEqualTo("abc");
    assertThat(listener.events.getLast())
        .isEqualTo("dropped " + c.key + ": the server acknowledged 6 bytes the capture never saw");
  }

  @Test
  void aLostLastSegmentIsRevealedByTheServersFin() {
    feed(c.syn(), c.synAck(), c.data(0, "abc"));

    feed(c.serverFin(6)); // "def" never captured, and no pure ACK from the server either

    assertThat(listener.events.getLast()).startsWith("dropped " + c.key);
  }

  @Test
  void idleFlowsExpire() {
    feed(c.syn(), c.data(0, "abc"));
    tracker.expire(now + TimeUnit.MINUTES.toNanos(10) - 1);
    assertThat(tracker.activeFlows()).isEqualTo(1);

    tracker.expire(now + TimeUnit.MINUTES.toNanos(10));

    assertThat(listener.events.getLast()).isEqualTo("dropped " + c.key + ": idle for 600 s");
  }

  @Test
  void serverPacketsKeepAFlowAlive() {
    feed(c.syn(), c.data(0, "abc"));
    now += TimeUnit.MINUTES.toNanos(9);
    feed(c.serverAck(3));
    tracker.expire(now + TimeUnit.MINUTES.toNanos(9));
    assertThat(tracker.activeFlows()).isEqualTo(1);
  }

  @Test
  void theOutOfOrderBufferOfAFlowIsBounded() {
    tracker = newTracker(TcpFlowTracker.Config.defaults().withMaxBufferedBytes(1000, 1 << 20));
    feed(c.syn());
    for (int i = 0; i < 10; i++) {
      feed(c.data(1 + 100L * i, new byte[100])); // byte 0 missing: everything waits
    }
    assertThat(listener.events).containsExactly("opened " + c.key);

    feed(c.data(1001, new byte[1]));

    assertThat(listener.events.getLast())
        .isEqualTo("dropped " + c.key + ": out-of-order buffer over 1000 bytes");
    assertThat(tracker.counters().bufferedBytes()).isZero();
  }

  @Test
  void theOutOfOrderBuffersOfAllFlowsAreBounded() {
    tracker = newTracker(TcpFlowTracker.Config.defaults().withMaxBufferedBytes(1000, 1500));
    Conversation d = new Conversation("10.1.0.3", 40000, "10.1.0.1", 8080, 5);
    feed(c.syn(), d.syn(), c.data(1, new byte[800]), d.data(1, new byte[800]));

    assertThat(listener.events)
        .containsExactly(
            "opened " + c.key,
            "opened " + d.key,
            "dropped " + d.key + ": out-of-order buffers of all flows over 1500 bytes");
    assertThat(tracker.counters().bufferedBytes()).isEqualTo(800);
  }

  @Test
  void newFlowsBeyondMaxFlowsAreRejected() {
    tracker = newTracker(TcpFlowTracker.Config.defaults().withMaxFlows(2));
    for (int port = 1; port <= 3; port++) {
      feed(new Conversation("10.1.0.2", port, "10.1.0.1", 8080, 1).syn());
    }
    assertThat(tracker.activeFlows()).isEqualTo(2);
    assertThat(tracker.counters().flowsRejected()).isEqualTo(1);
  }

  @Test
  void ipv6FlowsAreReassembled() {
    Conversation v6 = new Conversation("fd00::2", 40000, "fd00::1", 8080, 0xfffffffa);
    feed(v6.syn(), v6.data(4, "efgh"), v6.data(0, "abcd"), v6.serverAck(8), v6.fin(8));

    assertThat(listener.text(v6.key)).isEqualTo("abcdefgh");
    assertThat(listener.events).containsExactly("opened " + v6.key, "closed " + v6.key);
  }

  @Test
  void unsubscribingAPortDropsItsFlows() {
    feed(c.syn(), c.data(0, "abc"));
    tracker.setPorts(Set.of(9090));
    assertThat(listener.events.getLast()).isEqualTo("dropped " + c.key + ": port unsubscribed");
    feed(c.data(3, "def"), c.syn());
    assertThat(listener.events).hasSize(2);
  }

  @Test
  void aSynWithANewIsnReplacesTheOldFlow() {
    Conversation again = new Conversation(c.client, c.clientPort, c.server, c.serverPort, 999_999);
    feed(c.syn(), c.data(0, "old"), again.syn(), again.data(0, "new"), again.fin(3));

    assertThat(listener.events)
        .containsExactly(
            "opened " + c.key,
            "dropped " + c.key + ": superseded by a new SYN",
            "opened " + c.key,
            "closed " + c.key);
    assertThat(listener.text(c.key)).isEqualTo("new"); // the recorder restarts on opened
  }

  @Test
  void fastOpenDataInTheSynIsTheStreamStart() {
    feed(c.synWithData("hi"), c.synWithData("hi"), c.data(2, "!"), c.fin(3));
    assertThat(listener.text(c.key)).isEqualTo("hi!");
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
  }

  @Test
  void bytesAfterTheFinAreIgnored() {
    feed(c.syn(), c.data(2, "cdef"), c.data(6, "gh"), c.fin(3), c.data(0, "abcXYZ"));
    assertThat(listener.text(c.key)).isEqualTo("abc");
    assertThat(listener.events).containsExactly("opened " + c.key, "closed " + c.key);
  }

  @Test
  void dataComesInChunksOfAtMostMaxChunk() {
    tracker = newTracker(TcpFlowTracker.Config.defaults().withMaxChunk(1000));
    byte[] big = new byte[2500];
    new java.util.Random(1).nextBytes(big);
    feed(c.syn(), c.data(0, big));
    assertThat(listener.chunkSizes).containsExactly(1000, 1000, 500);
    assertThat(listener.bytes(c.key)).isEqualTo(big);
  }

  @Test
  void packetsThatAreNotPlainTcpAreCounted() {
    feed(
        TestPackets.tcp("10.1.0.2", 1, "10.1.0.1", 8080).fragment(true, 0).build(),
        TestPackets.tcp("fd00::2", 1, "fd00::1", 8080).ipv6ExtensionHeader(50).build(), // ESP
        TestPackets.tcp("10.1.0.2", 1, "10.1.0.1", 8080).protocol(17).build(),
        new byte[] {0x45, 0});

    TcpFlowTracker.Counters counters = tracker.counters();
    assertThat(counters.packets()).isEqualTo(4);
    assertThat(counters.fragments()).isEqualTo(1);
    assertThat(counters.ipv6ExtensionHeaders()).isEqualTo(1);
    assertThat(counters.notTcp()).isEqualTo(1);
    assertThat(counters.malformed()).isEqualTo(1);
    assertThat(listener.events).isEmpty();
  }

  @Test
  void segmentsFarOutsideTheWindowAreIgnored() {
    feed(c.syn(), c.data(0, "abc"), c.data(3L + (1L << 31), "zzz"), c.data(3, "def"));
    assertThat(listener.text(c.key)).isEqualTo("abcdef");
    assertThat(tracker.counters().outOfWindowSegments()).isEqualTo(1);
  }
}
