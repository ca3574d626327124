package dev.mirrord.jvm.protocol.relay;

/** Netty settings of the CLI and pod-agent processes, applied first thing in their {@code main}. */
public final class NettyDefaults {
  /** Netty's property; an explicit {@code -D} (the tests run with {@code paranoid}) wins. */
  static final String LEAK_DETECTION = "io.netty.leakDetection.level";

  private NettyDefaults() {}

  /**
   * Turns off Netty's sampled leak detection unless a level was asked for. By default it records
   * a stack trace for one buffer in 128; in the relays, which allocate a buffer or two per chunk,
   * that was about 3 % of the CLI's and the agent's CPU under load (async-profiler, bench/steal.sh).
   * The build's tests run with {@code paranoid}, so leaks are caught there instead.
   */
  public static void apply() {
    if (System.getProperty(LEAK_DETECTION) == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      System.setProperty(LEAK_DETECTION, "disabled");
    }
  }
}
