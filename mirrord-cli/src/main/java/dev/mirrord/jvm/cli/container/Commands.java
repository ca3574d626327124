package dev.mirrord.jvm.cli.container;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a short command and collects its output; tests replace it with a fake runtime. */
@FunctionalInterface
public interface Commands {

  /** A finished command. */
  record Result(int exitCode, String stdout, String stderr) {
    /** The first line of stderr that says something, without podman's CNI warnings. */
    public String firstError() {
      return stderr.lines()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.contains("level=warning"))
          .findFirst()
          .orElse("exit code " + exitCode);
    }
  }

  /**
   * @throws IOException if the command cannot be started or does not finish in time
   */
  Result run(List<String> command, Duration timeout) throws IOException;

  /** Real processes, stdin closed. */
  static Commands system() {
    return (command, timeout) -> {
      Process p = new ProcessBuilder(command).start();
      p.getOutputStream().close();
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      try {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          throw new IOException(String.join(" ", command) + " did not finish within " + timeout.toSeconds() + " s");
        }
        return new Result(p.exitValue(), out.join(), err.join());
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted running " + command.get(0), e);
      }
    };
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
