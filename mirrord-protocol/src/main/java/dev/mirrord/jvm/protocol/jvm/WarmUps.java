package dev.mirrord.jvm.protocol.jvm;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The background warm-ups of a JVM (the codec's, the agent's capture, the CLI's jar opening), and the wait for them
 * that an AOT training run needs before its exit. A training JVM ({@code -XX:AOTMode=record}) records the classes it
 * loaded and linked by its exit; a class that a warm-up had loaded but not yet linked then (the verifier loads the
 * classes a method names, the first use links them) is left out of the cache ("Skipping ...: Unlinked class not
 * supported by AOTClassLinking"), and every start from that cache loads it from the jar, whose whole central directory
 * that reads (~15 ms): an agent whose training ended right after READY missed ten of Netty's buffer classes so.
 */
public final class WarmUps {
  /** Set ({@code =true}) on a JVM that records an AOT cache ({@link AotCache#recordFlags}). */
  public static final String RECORDING_PROPERTY = "mirrord.aot.recording";

  private static final Queue<Thread> STARTED = new ConcurrentLinkedQueue<>();

  private WarmUps() {}

  /** Starts {@code task} on a daemon thread named {@code name}, which {@link #await} waits for; returns it. */
  public static Thread start(String name, Runnable task) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    STARTED.add(t);
    t.start();
    return t;
  }

  /** Whether this JVM records an AOT cache ({@link #RECORDING_PROPERTY}). */
  public static boolean recording() {
    return Boolean.getBoolean(RECORDING_PROPERTY);
  }

  /**
   * Waits until every warm-up started so far has ended, at most {@code timeoutMillis} in all.
   *
   * @return whether they all ended
   */
  public static boolean await(long timeoutMillis) {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    for (Thread t : STARTED) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      if (left <= 0) {
        return !t.isAlive() && allEnded();
      }
      try {
        t.join(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return allEnded();
  }

  /** {@link #await} in a training run ({@link #recording}); nothing otherwise. */
  public static void awaitIfRecording(long timeoutMillis) {
    if (recording()) {
      await(timeoutMillis);
    }
  }

  private static boolean allEnded() {
    for (Thread t : STARTED) {
      if (t.isAlive()) {
        return false;
      }
    }
    return true;
  }
}
