package dev.mirrord.jvm.podagent.sniffer;

/**
 * When {@link AfPacketSource} replaces its receive ring, and with how many blocks. A ring starts at
 * {@code firstBlocks} (by default 16, below the smallest ring {@code minBlocks}: all of a ring
 * counts in the agent's RSS, and a session may see no traffic for a long time). The first packet
 * it gives grows it to its largest, {@code maxBlocks}: the reader that gets it runs cold code (its
 * first packets load and compile the parser and the tracker) and a burst may come at once. So the
 * first ring only carries that switch (10–50 ms), while {@code minBlocks} is the floor of a ring
 * whose reader runs, and may stall (a pause of the JVM, a busy machine) with blocks handed over by
 * the kernel's 10 ms timeout meanwhile. After a window in which the reader never fell an eighth of
 * a smaller ring behind, it shrinks to the smallest such ring (not below {@code minBlocks}); it
 * grows fourfold, up to {@code maxBlocks}, when the reader falls a quarter of the ring behind or
 * the kernel dropped packets. A ring whose smallest is its largest is fixed, from the start. Pure:
 * the decisions only, tested on their own.
 *
 * <pre>
 *  blocks (256 KiB each)       start: 16 (4 MiB)
 *  the first packet:           16 --------------------------------------> 256 (64 MiB)
 *  a window with peak < 4:     256 or 128 or 64 ------------------------> 32 (8 MiB)
 *  a window with peak < 16:    256 ----------------------> 128 (32 MiB)
 *  backlog >= a quarter or drops:  32 --> 128 --> 256
 * </pre>
 */
record RingSizing(int minBlocks, int maxBlocks, int firstBlocks, long shrinkWindowNanos) {

  /** The shrink window: {@value #SHRINK_SECONDS_PROPERTY} seconds, default 60 (1 to 3 600). */
  static final String SHRINK_SECONDS_PROPERTY = "mirrord.capture.ring.shrink.seconds";

  RingSizing {
    if (minBlocks < 1 || maxBlocks < 1 || shrinkWindowNanos <= 0) {
      throw new IllegalArgumentException(minBlocks + " " + maxBlocks + " " + shrinkWindowNanos);
    }
    minBlocks = Math.min(minBlocks, maxBlocks);
    firstBlocks = minBlocks == maxBlocks ? maxBlocks : Math.max(1, Math.min(firstBlocks, maxBlocks));
  }

  /** From the agent's system properties (see {@link RxRing#RING_MIB_PROPERTY}). */
  static RingSizing fromProperties() {
    int max =
        RxRing.blockCount(System.getProperty(RxRing.RING_MIB_PROPERTY), RxRing.DEFAULT_RING_MIB);
    int min =
        RxRing.blockCount(
            System.getProperty(RxRing.MIN_RING_MIB_PROPERTY), RxRing.DEFAULT_MIN_RING_MIB);
    int first =
        RxRing.blockCount(
            System.getProperty(RxRing.FIRST_RING_MIB_PROPERTY), RxRing.DEFAULT_FIRST_RING_MIB);
    long seconds = 60;
    try {
      String asked = System.getProperty(SHRINK_SECONDS_PROPERTY);
      if (asked != null) {
        long value = Long.parseLong(asked.strip());
        if (value >= 1 && value <= 3_600) {
          seconds = value;
        }
      }
    } catch (NumberFormatException e) {
      // the default
    }
    return new RingSizing(min, max, first, seconds * 1_000_000_000L);
  }

  /** How many blocks behind the reader of a ring of {@code blocks} may fall before it grows. */
  static int growAt(int blocks) {
    return Math.max(1, blocks / 4);
  }

  /**
   * The blocks of the ring that should replace one of {@code blocks} whose reader is {@code
   * backlog} blocks behind, or 0 to keep it.
   */
  int grown(int blocks, int backlog, boolean dropped) {
    if (blocks >= maxBlocks || !(dropped || backlog >= growAt(blocks))) {
      return 0;
    }
    return (int) Math.min(maxBlocks, blocks * 4L);
  }

  /**
   * The blocks of the ring that should replace one of {@code blocks} when its reader gets its
   * first packet, or 0 to keep it: the largest, since the reader runs cold code and the ring must
   * hold whatever comes meanwhile.
   */
  int atFirstPacket(int blocks) {
    return blocks < maxBlocks ? maxBlocks : 0;
  }

  /**
   * The blocks of a smaller ring for one of {@code blocks} whose reader was at most {@code
   * peakBacklog} blocks behind during a whole window, or 0 to keep it: the smallest of {@code
   * minBlocks}, 4 x {@code minBlocks}, ... that the peak stays under an eighth of.
   */
  int shrunk(int blocks, int peakBacklog) {
    for (long smaller = minBlocks; smaller < blocks; smaller *= 4) {
      if (peakBacklog < Math.max(1, smaller / 8)) {
        return (int) smaller;
      }
    }
    return 0;
  }
}
