package dev.mirrord.jvm.e2e.lab;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether this machine can run the netns lab: root (effective uid 0), {@code ip netns add/del} of a probe namespace
 * works, and the tools {@code scripts/lab.sh} and the tests call are installed.
 *
 * <p>Use as {@code @EnabledIf("dev.mirrord.jvm.e2e.lab.Privileges#canManageNetns")} or through {@link
 * NetnsLabExtension}. The first negative answer prints {@link #reason()} to stdout, so the skip shows in the Maven log.
 */
public final class Privileges {
  /** Commands the lab and the e2e tests run. */
  private static final List<String> TOOLS =
      List.of("ip", "ss", "setsid", "unshare", "nsenter", "flock", "kill", "socat", "dnsmasq", "getent", "curl");

  private static Boolean canManageNetns;
  private static String reason = "";

  private Privileges() {}

  /** Cached; true when the lab can be created here. */
  public static synchronized boolean canManageNetns() {
    if (canManageNetns == null) {
      reason = probe();
      canManageNetns = reason.isEmpty();
      if (!canManageNetns) {
        System.out.println("[e2e] netns lab unavailable, e2e tests are SKIPPED: " + reason);
      }
    }
    return canManageNetns;
  }

  /** Why {@link #canManageNetns()} is false; empty when it is true. */
  public static synchronized String reason() {
    canManageNetns();
    return reason;
  }

  private static String probe() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return "not Linux (" + System.getProperty("os.name") + ")";
    }
    long euid = effectiveUid();
    if (euid != 0) {
      return "not root (euid " + euid + "); run the build as root, e.g. in CI (.ci/run)";
    }
    List<String> missing = new ArrayList<>();
    for (String tool : TOOLS) {
      if (!onPath(tool)) {
        missing.add(tool);
      }
    }
    if (!missing.isEmpty()) {
      return "missing tools " + missing + "; run scripts/install-deps.sh as root";
    }
    try {
      LabPaths.labScript();
    } catch (IllegalStateException e) {
      return e.getMessage();
    }
    // Not shaped like a lab prefix (mjl + 6 hex), so lab sweeps never touch it.
    String probe = "mjlprobe" + ProcessHandle.current().pid();
    String added = run("ip", "netns", "add", probe);
    if (!added.isEmpty()) {
      return "`ip netns add` does not work here: " + added;
    }
    String deleted = run("ip", "netns", "del", probe);
    if (!deleted.isEmpty()) {
      return "`ip netns del` does not work here: " + deleted;
    }
    return "";
  }

  private static long effectiveUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  private static boolean onPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : (path + ":/usr/sbin:/sbin").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /** Runs a command; returns "" on success, else a one-line description of the failure. */
  private static String run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", command) + " timed out";
      }
      String out = new String(p.getInputStream().readAllBytes()).strip();
      return p.exitValue() == 0 ? "" : "exit " + p.exitValue() + ": " + out.replace('\n', ' ');
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
