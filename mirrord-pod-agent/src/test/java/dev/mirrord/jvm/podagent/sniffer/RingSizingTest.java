package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RingSizingTest {
  private static final long WINDOW = 60_000_000_000L;
  private final RingSizing sizing = new RingSizing(32, 256, 32, WINDOW);

  @Test
  void aReaderAQuarterOfTheRingBehindGrowsItFourfoldUpToTheLargest() {
    assertThat(sizing.grown(32, 7, false)).as("7 of 32 behind").isZero();
    assertThat(sizing.grown(32, 8, false)).isEqualTo(128);
    assertThat(sizing.grown(128, 31, false)).isZero();
    assertThat(sizing.grown(128, 32, false)).as("capped").isEqualTo(256);
    assertThat(sizing.grown(256, 255, true)).as("the largest stays").isZero();
  }

  @Test
  void theFirstRingLiesAtMostAtTheLargestMayBeSmallerThanTheSmallestAndItsFirstPacketGrowsItToTheLargest() {
    assertThat(new RingSizing(32, 256, 16, WINDOW).firstBlocks()).as("below the smallest").isEqualTo(16);
    assertThat(new RingSizing(32, 256, 1024, WINDOW).firstBlocks()).isEqualTo(256);
    assertThat(new RingSizing(32, 256, 128, WINDOW).firstBlocks()).isEqualTo(128);
    assertThat(new RingSizing(32, 256, 0, WINDOW).firstBlocks()).as("at least a block").isEqualTo(1);
    assertThat(sizing.atFirstPacket(16)).isEqualTo(256);
    assertThat(sizing.atFirstPacket(32)).isEqualTo(256);
    assertThat(sizing.atFirstPacket(128)).isEqualTo(256);
    assertThat(sizing.atFirstPacket(256)).as("already the largest").isZero();
  }

  @Test
  void aFirstRingBelowTheSmallestNeverShrinksAndGrowsOnBacklogLikeAnyOther() {
    assertThat(sizing.shrunk(16, 0)).as("nothing smaller than the smallest").isZero();
    assertThat(sizing.grown(16, 3, false)).isZero();
    assertThat(sizing.grown(16, 4, false)).as("a quarter of 16 behind").isEqualTo(64);
    assertThat(sizing.grown(16, 0, true)).isEqualTo(64);
  }

  @Test
  void droppedPacketsGrowTheRingWhateverTheBacklog() {
    assertThat(sizing.grown(32, 0, true)).isEqualTo(128);
  }

  @Test
  void aQuietWindowShrinksTheRingToTheSmallestThePeakStaysUnderAnEighthOf() {
    assertThat(sizing.shrunk(256, 0)).isEqualTo(32);
    assertThat(sizing.shrunk(256, 3)).isEqualTo(32);
    assertThat(sizing.shrunk(256, 4)).as("4 of 32 is an eighth").isEqualTo(128);
    assertThat(sizing.shrunk(256, 15)).isEqualTo(128);
    assertThat(sizing.shrunk(256, 16)).as("no smaller ring fits").isZero();
    assertThat(sizing.shrunk(128, 3)).isEqualTo(32);
    assertThat(sizing.shrunk(128, 4)).isZero();
    assertThat(sizing.shrunk(32, 0)).as("the smallest stays").isZero();
  }

  @Test
  void shrinkingNeverUndoesAGrowthAtOnce() {
    // Whatever a grown ring's reader did, the ring it shrinks to would not grow back at the same
    // backlog: the thresholds leave a gap.
    for (int blocks : new int[] {32, 64, 128, 256}) {
      for (int peak = 0; peak < blocks; peak++) {
        int smaller = sizing.shrunk(blocks, peak);
        if (smaller != 0) {
          assertThat(smaller).isLessThan(blocks);
          assertThat(sizing.grown(smaller, peak, false))
              .as("%d blocks, peak %d", blocks, peak)
              .isZero();
        }
      }
    }
  }

  @Test
  void aSmallestAboveTheLargestIsAFixedRing() {
    RingSizing fixed = new RingSizing(512, 256, 32, WINDOW);
    assertThat(fixed.minBlocks()).isEqualTo(256);
    assertThat(fixed.firstBlocks()).isEqualTo(256);
    assertThat(new RingSizing(256, 256, 16, WINDOW).firstBlocks()).as("a fixed ring from the start").isEqualTo(256);
    assertThat(fixed.atFirstPacket(256)).isZero();
    assertThat(fixed.grown(256, 255, true)).isZero();
    assertThat(fixed.shrunk(256, 0)).isZero();
  }
}
