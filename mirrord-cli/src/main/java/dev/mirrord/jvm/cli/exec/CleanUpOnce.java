package dev.mirrord.jvm.cli.exec;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A clean-up that runs once, whoever asks first (the session's main path or the JVM's shutdown
 * hook), and that a second caller waits for: the shutdown hook must not return while the main path
 * is still cleaning up, or the JVM's exit cuts it short (a second Ctrl-C while the session ends left
 * the session directory behind).
 */
final class CleanUpOnce {
  private final Runnable action;
  private final Duration wait;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);

  /** {@code wait}: how long a second caller waits for the first one's clean-up to end. */
  CleanUpOnce(Runnable action, Duration wait) {
    this.action = action;
    this.wait = wait;
  }

  /**
   * Runs the clean-up if nobody has, else waits up to the bound for it to end.
   *
   * @return whether the clean-up has run to its end
   */
  boolean run() {
    if (started.compareAndSet(false, true)) {
      try {
        action.run();
      } finally {
        done.countDown();
      }
      return true;
    }
    try {
      return done.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return done.getCount() == 0;
    }
  }
}
