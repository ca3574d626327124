package dev.mirrord.jvm.podagent.sniffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Gates for tests that need root and {@code ip netns}. */
final class Privileges {
  private static volatile Boolean canManageNetns;

  private Privileges() {}

  /** Root and a working {@code ip netns}; prints why not, once, so a skip is never silent. */
  static boolean canManageNetns() {
    Boolean cached = canManageNetns;
    if (cached != null) {
      return cached;
    }
    String reason = null;
    try {
      String status = Files.readString(Path.of("/proc/self/status"));
      boolean root = status.lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
      if (!root) {
        reason = "not running as root";
      } else {
        Process ip = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
        ip.getInputStream().readAllBytes();
        if (!ip.waitFor(10, TimeUnit.SECONDS) || ip.exitValue() != 0) {
          reason = "`ip netns list` failed";
        }
      }
    } catch (Exception e) {
      reason = "`ip` is not usable: " + e;
    }
    if (reason != null) {
      System.err.println("Skipping network-namespace tests: " + reason);
    }
    canManageNetns = reason == null;
    return reason == null;
  }
}
