package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random streams cut into random segments, delivered shuffled with retransmissions and overlapping
 * re-cuts, several flows interleaved: every stream must come out exactly. Fixed seeds, bounded
 * sizes, so a failure reproduces.
 */
class TcpFlowTrackerPropertyTest {
  private static final int ROUNDS = 300;

  @Test
  void shuffledDuplicatedOverlappingSegmentsReassembleExactly() {
    for (int round = 0; round < ROUNDS; round++) {
      long seed = 0x5eed0000L + round;
      Random random = new Random(seed);
      RecordingFlowListener listener = new RecordingFlowListener();
      TcpFlowTracker tracker = new TcpFlowTracker(TcpFlowTracker.Config.defaults(), listener);
      tracker.setPorts(Set.of(8080));

      int flowCount = 1 + random.nextInt(3);
      List<Conversation> conversations = new ArrayList<>();
      List<byte[]> streams = new ArrayList<>();
      List<byte[]> packets = new ArrayList<>();
      for (int f = 0; f < flowCount; f++) {
        // Half the rounds start within a few KiB of 2^32, so the stream crosses the wrap.
        int isn = random.nextBoolean() ? -1 - random.nextInt(40_000) : random.nextInt();
        Conversation c = new Conversation("10.9.0." + (f + 2), 30000 + f, "10.9.0.1", 8080, isn);
        byte[] stream = new byte[random.nextInt(200_000)];
        random.nextBytes(stream);
        conversations.add(c);
        streams.add(stream);
        packets.addAll(segments(c, stream, random));
      }
      Collections.shuffle(packets, random);
      // The SYNs go first: a client can't send data before its handshake.
      for (Conversation c : conversations) {
        tracker.onPacket(c.syn(), 0);
      }
      for (byte[] packet : packets) {
        tracker.onPacket(packet, 0);
      }

      for (int f = 0; f < flowCount; f++) {
        Conversation c = conversations.get(f);
        assertThat(Arrays.equals(listener.bytes(c.key), streams.get(f)))
            .as(
                "seed %x flow %d: %d bytes expected, %d reassembled",
                seed, f, streams.get(f).length, listener.bytes(c.key).length)
            .isTrue();
        assertThat(listener.events).as("seed %x", seed).contains("closed " + c.key);
      }
      assertThat(listener.events).as("seed %x", seed).hasSize(2 * flowCount);
      assertThat(tracker.activeFlows()).isZero();
      assertThat(tracker.counters().bufferedBytes()).isZero();
    }
  }

  /** The stream cut at random (1..3000 bytes), plus duplicates, re-cut overlaps, and the FIN. */
  private static List<byte[]> segments(Conversation c, byte[] stream, Random random) {
    List<byte[]> out = new ArrayList<>();
    for (int at = 0; at < stream.length; ) {
      int length = Math.min(stream.length - at, 1 + random.nextInt(3000));
      byte[] piece = Arrays.copyOfRange(stream, at, at + length);
      out.add(c.data(at, piece));
      if (random.nextInt(5) == 0) {
        out.add(c.data(at, piece)); // retransmission
      }
      at += length;
    }
    int overlaps = stream.length == 0 ? 0 : random.nextInt(20);
    for (int i = 0; i < overlaps; i++) {
      int start = random.nextInt(stream.length);
      int end = Math.min(stream.length, start + 1 + random.nextInt(6000));
      out.add(c.data(start, Arrays.copyOfRange(stream, start, end)));
    }
    if (random.nextBoolean()) {
      out.add(c.fin(stream.length));
    } else {
      out.add(c.fin(stream.length));
      out.add(c.fin(stream.length)); // retransmitted FIN
    }
    return out;
  }
}
