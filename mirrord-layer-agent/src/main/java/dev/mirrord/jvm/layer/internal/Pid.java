package dev.mirrord.jvm.layer.internal;

import java.io.File;
import java.io.IOException;

/**
 * This JVM's process id, as the layer's log lines and peer names show it.
 *
 * <p>On Linux from {@code /proc/self}, a symbolic link named after the pid: {@code
 * ProcessHandle.current()} starts {@code ProcessHandleImpl}, whose class initializer makes the
 * JDK's process-reaper executor with a lambda, a few ms of the app's cold start before its {@code
 * main}. Anywhere else (or if {@code /proc} tells nothing) from {@code ProcessHandle}.
 */
public final class Pid {
  private static final long CURRENT = find();

  private Pid() {}

  /** This process's id. */
  public static long current() {
    return CURRENT;
  }

  private static long find() {
    try {
      String name = new File("/proc/self").getCanonicalFile().getName();
      if (digits(name)) {
        return Long.parseLong(name);
      }
    } catch (IOException | RuntimeException e) {
      // below
    }
    return ProcessHandle.current().pid();
  }

  /** Whether {@code s} is 1–18 decimal digits (no lambda: this runs in the app's cold JVM). */
  static boolean digits(String s) {
    if (s.isEmpty() || s.length() > 18) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
