package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OverlapFilterTest {
  private final Random random = new Random(7);

  @Test
  void theNewRingsCopiesOfTheOldRingsPacketsAreSkippedOnceEachAndNothingElse() {
    List<CapturedPacket> before = packets(50); // only in the old ring
    List<CapturedPacket> both = packets(30); // in both rings
    List<CapturedPacket> after = packets(40); // only in the new ring
    OverlapFilter filter = new OverlapFilter(0);
    before.forEach(filter::record);
    both.forEach(filter::record);

    List<CapturedPacket> newRing = new ArrayList<>();
    both.forEach(p -> newRing.add(copy(p)));
    newRing.addAll(after);
    List<CapturedPacket> kept = newRing.stream().filter(p -> !filter.repeats(p)).toList();

    assertThat(kept).containsExactlyElementsOf(after);
    assertThat(filter.skipped()).isEqualTo(30);
  }

  @Test
  void aPacketTheOldRingGaveTwiceIsSkippedTwiceAndAThirdCopyIsKept() {
    CapturedPacket packet = packets(1).getFirst();
    OverlapFilter filter = new OverlapFilter(0);
    filter.record(packet);
    filter.record(copy(packet));

    assertThat(filter.repeats(copy(packet))).isTrue();
    assertThat(filter.repeats(copy(packet))).isTrue();
    assertThat(filter.repeats(copy(packet))).isFalse();
  }

  @Test
  void theSameBytesOnAnotherInterfaceOrInTheOtherDirectionAreNotACopy() {
    CapturedPacket packet = packets(1).getFirst();
    OverlapFilter filter = new OverlapFilter(0);
    filter.record(packet);

    assertThat(
            filter.repeats(
                new CapturedPacket(
                    packet.data(), packet.etherType(), packet.type(), 9, packet.timestampNanos())))
        .isFalse();
    assertThat(
            filter.repeats(
                new CapturedPacket(
                    packet.data(),
                    packet.etherType(),
                    CapturedPacket.PacketType.OUTGOING,
                    packet.interfaceIndex(),
                    packet.timestampNanos())))
        .isFalse();
  }

  @Test
  void itEndsWhenEveryCopyCameOrAfterEnoughFreshPacketsOrTime() {
    OverlapFilter emptied = new OverlapFilter(0);
    CapturedPacket packet = packets(1).getFirst();
    emptied.record(packet);
    assertThat(emptied.done(0)).isFalse();
    emptied.repeats(copy(packet));
    assertThat(emptied.done(0)).isTrue();

    OverlapFilter fresh = new OverlapFilter(0);
    packets(5).forEach(fresh::record); // read before the new ring was attached: never repeated
    packets(OverlapFilter.FRESH_TO_END - 1).forEach(fresh::repeats);
    assertThat(fresh.done(0)).isFalse();
    fresh.repeats(packets(1).getFirst());
    assertThat(fresh.done(0)).isTrue();

    OverlapFilter old = new OverlapFilter(0);
    old.record(packet);
    assertThat(old.done(OverlapFilter.MAX_SECONDS * 1_000_000_000L - 1)).isFalse();
    assertThat(old.done(OverlapFilter.MAX_SECONDS * 1_000_000_000L)).isTrue();
  }

  private List<CapturedPacket> packets(int count) {
    List<CapturedPacket> packets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] data = new byte[40 + random.nextInt(1400)];
      random.nextBytes(data);
      packets.add(
          new CapturedPacket(
              data, CapturedPacket.ETHERTYPE_IPV4, CapturedPacket.PacketType.HOST, 2, i));
    }
    return packets;
  }

  /** The same packet as the other socket gets it: equal bytes in another array, another time. */
  private static CapturedPacket copy(CapturedPacket packet) {
    return new CapturedPacket(
        packet.data().clone(),
        packet.etherType(),
        packet.type(),
        packet.interfaceIndex(),
        packet.timestampNanos() + 1);
  }
}
