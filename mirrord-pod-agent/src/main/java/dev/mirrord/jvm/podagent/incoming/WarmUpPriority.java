package dev.mirrord.jvm.podagent.incoming;

import dev.mirrord.jvm.protocol.jvm.ProcStat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's scheduling weight while its capture warm-up runs. With autogroups ({@code
 * kernel.sched_autogroup_enabled=1}, most desktops) the kernel shares the CPU between sessions before threads, and a
 * local agent has a session of its own ({@code setsid}): a thread's nice value ranks it only among the agent's
 * threads, so the warm-up (100-250 ms of CPU while the app's JVM starts beside it on the developer's machine) took as
 * much CPU as the app and the CLI together. The agent's group gets nice {@value #WARM_UP_NICE} while it runs, and 0
 * again when it ends or a mirror subscription needs the capture. Only an agent that leads its own session: anywhere
 * else the group is shared with other processes (a test's JVM), which this must never slow down.
 */
final class WarmUpPriority {
  private static final Logger logger = LoggerFactory.getLogger(WarmUpPriority.class);

  /** The autogroup nice value while the warm-up runs (weight 110 against 1024 at 0). */
  static final int WARM_UP_NICE = 10;

  private final Path procRoot;
  private boolean lowered; // under this
  private boolean over; // under this: restore() was called; the weight is never lowered again

  WarmUpPriority(Path procRoot) {
    this.procRoot = procRoot;
  }

  /**
   * Lowers this process's autogroup if it leads its own session and has the default weight, and {@link #restore} was
   * not called yet (a subscription that came before the warm-up's thread ran must not find its capture slowed);
   * whether it did.
   */
  synchronized boolean lower() {
    if (over) {
      return false;
    }
    try {
      Path self = procRoot.resolve("self");
      if (!leadsItsSession(Files.readString(self.resolve("stat"), StandardCharsets.US_ASCII))
          || !Files.readString(self.resolve("autogroup"), StandardCharsets.US_ASCII).strip().endsWith(" nice 0")) {
        return false;
      }
      Files.writeString(self.resolve("autogroup"), Integer.toString(WARM_UP_NICE), StandardCharsets.US_ASCII);
      lowered = true;
      return true;
    } catch (IOException | RuntimeException e) {
      logger.debug("the capture warm-up runs at the agent's normal weight: {}", e.toString());
      return false;
    }
  }

  /** The normal weight again, if {@link #lower} lowered it (raising it back to 0 needs no privilege), for good. */
  synchronized void restore() {
    over = true;
    if (!lowered) {
      return;
    }
    lowered = false;
    try {
      Files.writeString(procRoot.resolve("self/autogroup"), "0", StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot restore the agent's weight: {}", e.toString());
    }
  }

  /** Whether the process of this {@code /proc/PID/stat} line is its session's leader (field 6, the session id). */
  static boolean leadsItsSession(String stat) {
    String pid = ProcStat.field(stat, 1);
    return pid != null && pid.equals(ProcStat.field(stat, 6));
  }
}
