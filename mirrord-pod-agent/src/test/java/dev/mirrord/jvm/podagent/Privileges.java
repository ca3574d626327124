package dev.mirrord.jvm.podagent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** What the machine running the tests lets us do; for {@code @EnabledIf} and assumptions. */
final class Privileges {
  private Privileges() {}

  static boolean isRoot() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }

  /** Root, and {@code ip netns} plus {@code nsenter} work here. */
  static boolean canManageNetns() {
    return isRoot() && runs("ip", "netns", "list") && runs("nsenter", "--version");
  }

  /** Root, and {@code setpriv} can drop to nobody. */
  static boolean canDropToNobody() {
    return isRoot() && runs("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true");
  }

  static boolean runs(String... command) {
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (Exception e) {
      return false;
    }
  }
}
