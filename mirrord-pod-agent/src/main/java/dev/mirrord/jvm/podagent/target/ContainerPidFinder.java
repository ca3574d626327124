package dev.mirrord.jvm.podagent.target;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the PID of a container's main process from its container ID by reading {@code
 * /proc/<pid>/cgroup} of every process (the agent runs with {@code hostPID}, so it sees the node's
 * processes). Every runtime names the container's cgroup after its ID:
 *
 * <pre>
 *   cgroup v2, systemd driver   0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod&lt;uid&gt;.slice/cri-containerd-&lt;id&gt;.scope
 *                               0::/kubepods.slice/…/crio-&lt;id&gt;.scope        0::/system.slice/docker-&lt;id&gt;.scope
 *   cgroup v2, cgroupfs driver  0::/kubepods/burstable/pod&lt;uid&gt;/&lt;id&gt;           (k3s, kind)
 *   cgroup v1                   4:memory:/kubepods/besteffort/pod&lt;uid&gt;/&lt;id&gt;    12:pids:/docker/&lt;id&gt;
 * </pre>
 *
 * A line matches when the ID is a whole path component, or a component is {@code <prefix>-<id>} or
 * {@code <prefix>-<id>.scope}. CRI-O's monitor ({@code crio-conmon-<id>.scope}) runs outside the
 * container and never matches. Of the matching processes, the container's init is the one whose
 * parent is not in the container (lowest PID on ties).
 *
 * <p>The runtime's own socket (containerd/CRI-O {@code crictl inspect}, Docker's API) would answer
 * directly but needs the socket mounted into the agent; the cgroup lookup needs only {@code /proc}.
 */
public final class ContainerPidFinder {
  private static final Logger logger = LoggerFactory.getLogger(ContainerPidFinder.class);

  private final Path procRoot;

  /** @param procRoot {@code /proc}, or a recorded tree in tests */
  public ContainerPidFinder(Path procRoot) {
    this.procRoot = procRoot;
  }

  /** The container's init process, if any process of it is visible. */
  public Optional<Integer> find(ContainerId container) {
    Set<Integer> pids = pidsOf(container);
    if (pids.isEmpty()) {
      return Optional.empty();
    }
    for (int pid : pids) {
      int parent = parentPid(pid);
      if (!pids.contains(parent)) {
        return Optional.of(pid);
      }
    }
    return Optional.of(pids.iterator().next());
  }

  /** Every visible process in the container, sorted. */
  public Set<Integer> pidsOf(ContainerId container) {
    Set<Integer> pids = new TreeSet<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(procRoot, p -> isNumber(p.getFileName().toString()))) {
      for (Path dir : dirs) {
        String cgroup = read(dir.resolve("cgroup"));
        if (cgroup != null && matches(cgroup, container.id())) {
          pids.add(Integer.parseInt(dir.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      logger.warn("cannot list {}: {}", procRoot, e.toString());
    }
    return pids;
  }

  /** Whether any line of a {@code /proc/<pid>/cgroup} file puts the process in container {@code id}. */
  public static boolean matches(String cgroupFile, String id) {
    for (String line : cgroupFile.split("\n")) {
      // hierarchy-ID:controller-list:cgroup-path; the path may itself contain ':'
      int first = line.indexOf(':');
      int second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (second < 0) {
        continue;
      }
      for (String component : line.substring(second + 1).split("/")) {
        if (componentNames(component, id)) {
          return true;
        }
      }
    }
    return false;
  }

  static boolean componentNames(String component, String id) {
    String c = component.endsWith(".scope") ? component.substring(0, component.length() - ".scope".length()) : component;
    if (c.equals(id)) {
      return true;
    }
    if (!c.endsWith("-" + id)) {
      return false;
    }
    String prefix = c.substring(0, c.length() - id.length() - 1);
    // crio-conmon-<id>: CRI-O's monitor process, outside the container
    return !prefix.isEmpty() && !prefix.endsWith("conmon");
  }

  private int parentPid(int pid) {
    String status = read(procRoot.resolve(Integer.toString(pid)).resolve("status"));
    if (status != null) {
      for (String line : status.split("\n")) {
        if (line.startsWith("PPid:")) {
          try {
            return Integer.parseInt(line.substring(5).strip());
          } catch (NumberFormatException e) {
            return -1;
          }
        }
      }
    }
    return -1;
  }

  private static String read(Path file) {
    try {
      return new String(TargetProcess.readProcFile(file), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return null; // the process exited, or is not ours to read
    }
  }

  private static boolean isNumber(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!Character.isDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
