package dev.mirrord.jvm.podagent.target;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The target process as seen through {@code /proc/N}. Paths under {@link #rootDir()} are the
 * target's own view of the file system (its mount namespace), so {@link #resolvConf()} is the pod's
 * DNS configuration even when the agent runs in the node's mount namespace.
 */
public final class TargetProcess {
  private static final Path PROC = Path.of("/proc");

  private final int pid;
  private final Path procDir;

  private TargetProcess(int pid, Path procRoot) {
    if (pid <= 0) {
      throw new IllegalArgumentException("pid must be positive: " + pid);
    }
    this.pid = pid;
    this.procDir = procRoot.resolve(Integer.toString(pid));
  }

  /** The process {@code pid} under the real {@code /proc}. */
  public static TargetProcess of(int pid) {
    return new TargetProcess(pid, PROC);
  }

  /** The process {@code pid} under a fake proc tree (tests). */
  public static TargetProcess under(Path procRoot, int pid) {
    return new TargetProcess(pid, procRoot);
  }

  public int pid() {
    return pid;
  }

  /** {@code /proc/N}. */
  public Path procDir() {
    return procDir;
  }

  /** Whether {@code /proc/N} exists, i.e. the pid is alive (or a zombie) in our pid namespace. */
  public boolean exists() {
    return Files.isDirectory(procDir);
  }

  /** {@code /proc/N/environ}: NUL-separated {@code KEY=VALUE}, readable by root or the owner. */
  public Path environ() {
    return procDir.resolve("environ");
  }

  /** {@code /proc/N/ns/net}: the target's network namespace. */
  public Path netns() {
    return procDir.resolve("ns/net");
  }

  /** {@code /proc/N/root}: the target's root directory. */
  public Path rootDir() {
    return procDir.resolve("root");
  }

  /** The target's {@code /etc/resolv.conf}. */
  public Path resolvConf() {
    return rootDir().resolve("etc/resolv.conf");
  }

  /** The target's {@code /etc/hosts}. */
  public Path hosts() {
    return rootDir().resolve("etc/hosts");
  }

  /** The target's {@code /etc/hostname} (kubelet mounts the pod name there). */
  public Path hostnameFile() {
    return rootDir().resolve("etc/hostname");
  }

  /**
   * The target's host name: the first line of its {@code /etc/hostname}, else the UTS host name the
   * agent sees ({@code /proc/sys/kernel/hostname}), else {@code "localhost"}.
   */
  public String hostname() {
    String name = firstLine(hostnameFile());
    if (name == null) {
      name = firstLine(PROC.resolve("sys/kernel/hostname"));
    }
    return name != null ? name : "localhost";
  }

  /**
   * Reads a small {@code /proc} or {@code /etc} file. Not {@code Files.readString}: for a file that
   * reports size 0 it starts with a one-byte read, and sysctl files such as {@code
   * /proc/sys/kernel/pid_max} answer nothing at a non-zero offset, so it would return one byte.
   */
  public static byte[] readProcFile(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readAllBytes();
    }
  }

  private static String firstLine(Path file) {
    try {
      String text = new String(readProcFile(file), StandardCharsets.UTF_8).strip();
      int nl = text.indexOf('\n');
      String line = (nl < 0 ? text : text.substring(0, nl)).strip();
      return line.isEmpty() ? null : line;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return "pid " + pid;
  }
}
