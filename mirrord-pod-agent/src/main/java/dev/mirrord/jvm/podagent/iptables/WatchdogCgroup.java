package dev.mirrord.jvm.podagent.iptables;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the steal watchdog out of the agent container's cgroups, into the root cgroup of every
 * hierarchy. Why: when a container's first process dies and the container shares the host's PID
 * namespace (the agent Job's {@code hostPID}, {@code podman run --pid=host}), the runtime kills
 * every process of the container's cgroup (runc: {@code signalAllProcesses}) — the watchdog too,
 * before it can remove the steal rules. Seen with podman 4.3 + runc: {@code podman kill -s KILL}
 * of such a container killed its children within the same second.
 *
 * <p>How: for each line {@code id:controllers:path} of {@code /proc/self/cgroup} it mounts that
 * hierarchy ({@code cgroup -o <controllers>}, {@code -o none,name=X} for named ones, {@code
 * cgroup2} for line 0) on a fresh directory, writes the pid to its {@code cgroup.procs} and
 * unmounts it. On cgroup v1 a new mount shows the hierarchy's root. Under a private cgroup
 * namespace (cgroup v2's default) the mount would show only the container's own cgroup, so the
 * script runs in PID 1's cgroup namespace when this process may enter it. Needs CAP_SYS_ADMIN (the
 * agent's container has it, for {@code setns}) and {@code mount}/{@code umount} (util-linux, in the
 * image). Best effort: on failure the agent logs one warning and the rules of a killed container
 * stay until the next stealer sweeps them.
 */
public final class WatchdogCgroup {
  private static final Logger logger = LoggerFactory.getLogger(WatchdogCgroup.class);

  /** Set (to anything but 0) in the agent image: the agent runs inside a container. */
  public static final String IN_CONTAINER_ENV = "MIRRORD_AGENT_IN_CONTAINER";

  /** A cgroup hierarchy to mount: {@code mount -t <type> -o <options> cgroup DIR}. */
  record Hierarchy(String type, String options) {}

  private WatchdogCgroup() {}

  /** Whether the agent runs in a container, by {@link #IN_CONTAINER_ENV}. */
  public static boolean inContainer() {
    String v = System.getenv(IN_CONTAINER_ENV);
    return v != null && !v.isBlank() && !v.equals("0");
  }

  /**
   * The hierarchies a process is in, from its {@code /proc/<pid>/cgroup}; those where it sits in
   * the root already ({@code /}) are left out.
   */
  static List<Hierarchy> hierarchies(String procCgroup) {
    Set<Hierarchy> out = new LinkedHashSet<>();
    for (String line : procCgroup.split("\n")) {
      int first = line.indexOf(':');
      int second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (second < 0) {
        continue;
      }
      String id = line.substring(0, first);
      String controllers = line.substring(first + 1, second);
      String path = line.substring(second + 1).strip();
      if (path.equals("/")) {
        continue;
      }
      if (id.equals("0") && controllers.isEmpty()) {
        out.add(new Hierarchy("cgroup2", "rw"));
      } else if (controllers.startsWith("name=")) {
        out.add(new Hierarchy("cgroup", "none," + controllers));
      } else if (!controllers.isEmpty()) {
        out.add(new Hierarchy("cgroup", controllers));
      }
    }
    return List.copyOf(out);
  }

  /** The shell script (dash builtins, {@code mount}, {@code umount}) that moves {@code pid}. */
  static String script(List<Hierarchy> hierarchies, List<Path> dirs, long pid) {
    StringBuilder s = new StringBuilder("failed=0\n");
    for (int i = 0; i < hierarchies.size(); i++) {
      Hierarchy h = hierarchies.get(i);
      String dir = dirs.get(i).toString();
      s.append("if mount -t ").append(h.type()).append(" -o ").append(h.options()).append(" cgroup ").append(dir)
          .append("; then echo ").append(pid).append(" > ").append(dir).append("/cgroup.procs || failed=1; umount ")
          .append(dir).append("; else failed=1; fi\n");
    }
    return s.append("exit $failed\n").toString();
  }

  /** Moves {@code pid} (the watchdog) to the root cgroups; logs a warning if it cannot. */
  public static void escape(long pid) {
    List<Hierarchy> hierarchies;
    try {
      hierarchies = hierarchies(Files.readString(Path.of("/proc/self/cgroup")));
    } catch (IOException e) {
      logger.warn("cannot read /proc/self/cgroup ({}); the steal rules outlive a killed agent container", e.toString());
      return;
    }
    if (hierarchies.isEmpty()) {
      return;
    }
    Path base = null;
    try {
      base = Files.createTempDirectory("mirrord-cgroups");
      List<Path> dirs = new ArrayList<>();
      for (int i = 0; i < hierarchies.size(); i++) {
        dirs.add(Files.createDirectory(base.resolve("h" + i)));
      }
      List<String> command = new ArrayList<>();
      if (otherCgroupNamespace()) {
        command.addAll(List.of("nsenter", "--cgroup=/proc/1/ns/cgroup", "--"));
      }
      command.addAll(List.of("sh", "-c", script(hierarchies, dirs, pid)));
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes()).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        logger.warn(
            "could not move the steal watchdog (pid {}) out of the agent container's cgroups ({}); if the container is"
                + " killed, its steal rules stay until the next agent sweeps them",
            pid,
            output.isEmpty() ? "exit " + (p.isAlive() ? "timeout" : p.exitValue()) : output.replace('\n', ' '));
      } else {
        logger.debug("steal watchdog pid {} moved to the root of {} cgroup hierarchies", pid, hierarchies.size());
      }
    } catch (IOException e) {
      logger.warn("could not move the steal watchdog out of the agent container's cgroups: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      deleteQuietly(base);
    }
  }

  private static boolean otherCgroupNamespace() {
    try {
      return !Files.readSymbolicLink(Path.of("/proc/1/ns/cgroup"))
          .equals(Files.readSymbolicLink(Path.of("/proc/self/ns/cgroup")));
    } catch (IOException | RuntimeException e) {
      return false; // not ours to enter
    }
  }

  private static void deleteQuietly(Path base) {
    if (base == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(base)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      logger.debug("cannot delete {}: {}", base, e.toString());
    }
  }
}
