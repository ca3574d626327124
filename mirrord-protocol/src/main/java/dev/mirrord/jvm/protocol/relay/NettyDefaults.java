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
    // Channel ids (DefaultChannelId) need a machine id and a process id. Found by Netty, the machine id is a MAC
    // address from an enumeration of the network interfaces: 12-25 ms of the session proxy's start, which the
    // session file waits for (and a WARN line where no interface has one). A channel id only names a channel in
    // logs: random bytes and this process's pid do.
    if (System.getProperty(MACHINE_ID) == null) {
      byte[] id = new byte[8];
      new java.util.SplittableRandom().nextBytes(id);
      System.setProperty(MACHINE_ID, java.util.HexFormat.ofDelimiter(":").formatHex(id));
    }
    if (System.getProperty(PROCESS_ID) == null) {
      System.setProperty(PROCESS_ID, Long.toString(ProcessHandle.current().pid()));
    }
  }

  /** Netty's properties for {@code DefaultChannelId}. */
  static final String MACHINE_ID = "io.netty.machineId";

  static final String PROCESS_ID = "io.netty.processId";
}
