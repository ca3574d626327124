package dev.mirrord.jvm.cli.launch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local agent's JVM start yields the CPU to the app's: while it starts, its scheduling group
 * ({@code /proc/PID/autogroup}: the agent runs in a session of its own, {@code setsid}, and the
 * kernel shares the CPU between sessions before threads) gets a lower weight, and at READY its
 * normal one again. Without autogroups, or where it cannot be written, nothing happens.
 */
final class StartPriority {
  private static final Logger logger = LoggerFactory.getLogger(StartPriority.class);

  /** The autogroup nice value while the agent starts (weight 110 against 1024 at 0). */
  static final int STARTING_NICE = 10;

  private static final int WAIT_FOR_SESSION_MILLIS = 50;

  private final Path procRoot;

  StartPriority(Path procRoot) {
    this.procRoot = procRoot;
  }

  /**
   * Lowers {@code pid}'s autogroup once it has one of its own (its {@code setsid} ran), waiting
   * at most {@value #WAIT_FOR_SESSION_MILLIS} ms for that; never this process's own group.
   *
   * @return whether it was lowered (and so must be {@link #restore restored})
   */
  boolean lower(long pid) {
    Path own = procRoot.resolve("self/autogroup");
    Path theirs = procRoot.resolve(pid + "/autogroup");
    try {
      String self = group(Files.readString(own, StandardCharsets.US_ASCII));
      long deadline = System.nanoTime() + WAIT_FOR_SESSION_MILLIS * 1_000_000L;
      while (true) {
        String group = group(Files.readString(theirs, StandardCharsets.US_ASCII));
        if (!group.equals(self)) {
          Files.writeString(theirs, Integer.toString(STARTING_NICE), StandardCharsets.US_ASCII);
          return true;
        }
        if (System.nanoTime() > deadline) {
          return false;
        }
        Thread.sleep(1);
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("agent pid {} starts at its normal priority: {}", pid, e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Gives {@code pid}'s autogroup its normal weight again. */
  void restore(long pid) {
    try {
      Files.writeString(procRoot.resolve(pid + "/autogroup"), "0", StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot restore agent pid {}'s priority: {}", pid, e.toString());
    }
  }

  /** {@code /autogroup-123} of {@code /autogroup-123 nice 0}. */
  private static String group(String line) {
    int space = line.indexOf(' ');
    return space < 0 ? line.strip() : line.substring(0, space);
  }
}
