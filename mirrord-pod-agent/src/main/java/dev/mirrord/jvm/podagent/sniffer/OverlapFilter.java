package dev.mirrord.jvm.podagent.sniffer;

import java.util.HashMap;
import java.util.Map;

/**
 * The packets a replaced capture ring gave while its replacement was already attached, so that the
 * replacement's copies of them are skipped (see {@link AfPacketSource}, "A ring sized to the load").
 * Both sockets see the same packet with the same bytes, interface and direction, so a 64-bit hash
 * of those names it; a real retransmission differs in its IP identification and TCP timestamp.
 *
 * <p>The copies come first in the new ring, in the order the old one gave them, but for packets
 * that two CPUs delivered at the same moment: once {@value #FRESH_TO_END} packets the old ring did
 * not have were read (or {@value #MAX_SECONDS} s passed), no copy is left to come and the filter
 * ends.
 */
final class OverlapFilter {
  static final int FRESH_TO_END = 1024;
  static final int MAX_SECONDS = 10;

  /** At most this many bytes of each packet are hashed: its IP and TCP headers. */
  private static final int HASHED_BYTES = 128;

  private final Map<Long, Integer> pending = new HashMap<>();
  private final long startNanos;
  private long recorded;
  private long skipped;
  private long fresh;

  OverlapFilter(long startNanos) {
    this.startNanos = startNanos;
  }

  /** A packet of the replaced ring. */
  void record(CapturedPacket packet) {
    pending.merge(key(packet), 1, Integer::sum);
    recorded++;
  }

  /** Whether {@code packet}, from the new ring, is a copy of one the replaced ring gave. */
  boolean repeats(CapturedPacket packet) {
    Long key = key(packet);
    Integer count = pending.get(key);
    if (count == null) {
      fresh++;
      return false;
    }
    if (count == 1) {
      pending.remove(key);
    } else {
      pending.put(key, count - 1);
    }
    skipped++;
    return true;
  }

  /** Whether no copy is left to come. */
  boolean done(long nowNanos) {
    return pending.isEmpty()
        || fresh >= FRESH_TO_END
        || nowNanos - startNanos >= MAX_SECONDS * 1_000_000_000L;
  }

  long skipped() {
    return skipped;
  }

  @Override
  public String toString() {
    return recorded + " packets read from the old ring after the new one was attached, " + skipped
        + " of them seen again in the new one and skipped";
  }

  /** FNV-1a over the packet's first bytes, its length, interface and direction; then mixed. */
  static long key(CapturedPacket packet) {
    byte[] data = packet.data();
    long hash = 0xcbf29ce484222325L;
    hash = (hash ^ data.length) * 0x100000001b3L;
    hash = (hash ^ packet.interfaceIndex()) * 0x100000001b3L;
    hash = (hash ^ packet.type().ordinal()) * 0x100000001b3L;
    for (int i = 0, n = Math.min(data.length, HASHED_BYTES); i < n; i++) {
      hash = (hash ^ (data[i] & 0xff)) * 0x100000001b3L;
    }
    hash ^= hash >>> 33;
    hash *= 0xff51afd7ed558ccdL;
    hash ^= hash >>> 33;
    return hash;
  }
}
