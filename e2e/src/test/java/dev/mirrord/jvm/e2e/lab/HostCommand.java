package dev.mirrord.jvm.e2e.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Short commands run in the test JVM's own namespace (ip netns, iptables-save, ...). */
public final class HostCommand {
  private HostCommand() {}

  /** Runs {@code cmd} (at most 15 s); returns its stdout and stderr; fails the test on a non-zero exit. */
  public static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " timed out");
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
