package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.util.Set;

/**
 * Where captured IP packets come from. One thread calls {@link #next}; {@link #setPorts} and {@link
 * #stats} may be called from any thread. {@link #close()} is called once the reading thread has
 * stopped ({@link TcpSniffer} does so), because closing a descriptor under a blocked read is a race
 * in the kernel's fd table.
 */
public interface PacketSource extends AutoCloseable {

  /**
   * The next captured packet, or {@code null} if none arrived within about {@code timeoutMillis} (a
   * timeout of 0 only takes what is already queued).
   */
  CapturedPacket next(long timeoutMillis) throws IOException;

  /**
   * Captures from now on only TCP packets whose source or destination port is in {@code ports}; an
   * empty set captures nothing. Packets already queued under the previous filter may still come.
   */
  void setPorts(Set<Integer> ports) throws IOException;

  /** Kernel counters since the source was opened. */
  Stats stats() throws IOException;

  @Override
  void close() throws IOException;

  /**
   * Counters of the capture socket. {@code received} includes {@code dropped} (packets that passed
   * the filter but found the socket's receive buffer or ring full); {@code truncated} counts
   * packets larger than the read buffer or a ring block, skipped by the source; {@code ringFreezes}
   * the times the kernel found every block of a receive ring still unread (0 without a ring).
   */
  record Stats(long received, long dropped, long truncated, long ringFreezes) {
    public static final Stats ZERO = new Stats(0, 0, 0, 0);

    public Stats(long received, long dropped, long truncated) {
      this(received, dropped, truncated, 0);
    }
  }
}
