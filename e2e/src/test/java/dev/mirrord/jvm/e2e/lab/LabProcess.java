package dev.mirrord.jvm.e2e.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A process started inside a lab namespace ({@code setsid ip netns exec NS cmd...}), in its own session and process
 * group. Its stdout and stderr go to files under {@link LabPaths#logDir}. {@link #close()} kills the whole group.
 */
public final class LabProcess implements AutoCloseable {
  private final String description;
  private final Process process;
  private final Path stdoutFile;
  private final Path stderrFile;
  private final java.util.function.Supplier<String> moreOutput;

  LabProcess(String description, Process process, Path stdoutFile, Path stderrFile) {
    this(description, process, stdoutFile, stderrFile, () -> "");
  }

  /**
   * A started process whose stdout and stderr go to these files; {@code moreOutput} adds to {@link
   * #outputForHumans()} (e.g. other logs of the run).
   */
  public LabProcess(
      String description,
      Process process,
      Path stdoutFile,
      Path stderrFile,
      java.util.function.Supplier<String> moreOutput) {
    this.description = description;
    this.process = process;
    this.stdoutFile = stdoutFile;
    this.stderrFile = stderrFile;
    this.moreOutput = moreOutput;
  }

  /** Pid of the command itself ({@code setsid} and {@code ip netns exec} exec into it) and of its process group. */
  public long pid() {
    return process.pid();
  }

  public Process process() {
    return process;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path stdoutFile() {
    return stdoutFile;
  }

  public Path stderrFile() {
    return stderrFile;
  }

  /** Everything the process has written to stdout so far. */
  public String stdout() {
    return read(stdoutFile);
  }

  /** Everything the process has written to stderr so far. */
  public String stderr() {
    return read(stderrFile);
  }

  /** Waits for the exit; throws {@link AssertionError} (with the output) if it takes longer than {@code timeout}. */
  public int waitFor(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(description + " still running after " + timeout + "\n" + outputForHumans());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + description, e);
    }
  }

  /**
   * Polls stdout until {@code regex} matches (bounded by {@code timeout}); returns the match. Fails fast, with the
   * output, if the process exits first.
   */
  public Matcher awaitStdout(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex, Pattern.MULTILINE);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Matcher m = pattern.matcher(stdout());
      if (m.find()) {
        return m;
      }
      if (!process.isAlive()) {
        m = pattern.matcher(stdout());
        if (m.find()) {
          return m;
        }
        throw new AssertionError(
            description + " exited (" + process.exitValue() + ") before printing /" + regex + "/\n" + outputForHumans());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(description + " did not print /" + regex + "/ within " + timeout + "\n" + outputForHumans());
      }
      sleep(20);
    }
  }

  /** Sends SIGTERM to the process group, waits up to {@code grace}, then SIGKILLs whatever is left. */
  public void stop(Duration grace) {
    signalGroup("TERM");
    try {
      process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close();
  }

  /** Kills the process group (and any descendant that left it), then waits briefly for the exit. */
  @Override
  public void close() {
    signalGroup("KILL");
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String outputForHumans() {
    return "--- " + description + " stdout (" + stdoutFile + "):\n" + tail(stdout())
        + "--- stderr (" + stderrFile + "):\n" + tail(stderr()) + moreOutput.get();
  }

  /** The last few KiB of {@code s}, ending with a newline. */
  public static String tail(String s) {
    return (s.length() > 6000 ? "…" + s.substring(s.length() - 6000) : s)
        + (s.isEmpty() || s.endsWith("\n") ? "" : "\n");
  }

  /** A file's text, or "" if it does not exist. */
  public static String read(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return description + " pid " + pid();
  }

  private void signalGroup(String signal) {
    try {
      Process kill = new ProcessBuilder(List.of("kill", "-" + signal, "--", "-" + process.pid()))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      // The group may be gone already; destroyForcibly below still covers the process itself.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
