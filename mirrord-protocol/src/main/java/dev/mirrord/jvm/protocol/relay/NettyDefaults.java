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
    channelIds(ProcessHandle.current().pid());
    selectorProvider(System.getProperty("os.name", ""));
  }

  /**
   * Names the JDK's own selector provider on Linux ({@value #LINUX_SELECTOR_PROVIDER}, which the JDK would pick
   * anyway), unless a {@code -D} named one. Unnamed, the JDK first looks for one with a {@code ServiceLoader} over the
   * class path, when Netty's first event loop opens its selector: that lookup opens the fat jar and reads its whole
   * central directory, ~30 ms of the CLI's session proxy start, whose classes all come from the AOT cache
   * (docs/PERFORMANCE.md, "logback without its ServiceLoader"). Elsewhere the JDK's own choice stays.
   */
  static void selectorProvider(String osName) {
    if (osName.startsWith("Linux") && System.getProperty(SELECTOR_PROVIDER) == null) {
      System.setProperty(SELECTOR_PROVIDER, LINUX_SELECTOR_PROVIDER);
    }
  }

  /** The JDK's property for {@code SelectorProvider.provider()}. */
  static final String SELECTOR_PROVIDER = "java.nio.channels.spi.SelectorProvider";

  /** The provider {@code sun.nio.ch.DefaultSelectorProvider} gives on Linux. */
  static final String LINUX_SELECTOR_PROVIDER = "sun.nio.ch.EPollSelectorProvider";

  /**
   * Gives Netty's channel ids ({@code DefaultChannelId}) a machine id (random bytes) and {@code pid}
   * as its process id, unless a {@code -D} gave them. Found by Netty, the machine id is a MAC
   * address from an enumeration of the network interfaces: 12-25 ms of the CLI's session proxy
   * start, which the session file waits for, and a WARN line where no interface has one. A channel
   * id only names a channel in logs. The layer calls it too, for its own (shaded) Netty: the shade
   * plugin relocates these property names with Netty's classes.
   */
  public static void channelIds(long pid) {
    if (System.getProperty(MACHINE_ID) == null) {
      System.setProperty(MACHINE_ID, randomMachineId(new java.util.SplittableRandom()));
    }
    if (System.getProperty(PROCESS_ID) == null) {
      System.setProperty(PROCESS_ID, Long.toString(pid));
    }
  }

  /** Eight random bytes as Netty writes a machine id ({@code 01:23:45:67:89:ab:cd:ef}). */
  static String randomMachineId(java.util.SplittableRandom random) {
    byte[] id = new byte[8];
    random.nextBytes(id);
    return java.util.HexFormat.ofDelimiter(":").formatHex(id);
  }

  /** Netty's properties for {@code DefaultChannelId}. */
  static final String MACHINE_ID = "io.netty.machineId";

  static final String PROCESS_ID = "io.netty.processId";
}
