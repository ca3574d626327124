package dev.mirrord.jvm.layer.internal;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;

/**
 * The layer's log: one line per event, appended to the session's {@code log.file}.
 *
 * <p>Several JVMs of one session (a build tool and the JVMs it forks) share the file, so each line
 * names its pid and is written with one {@code write} on a file opened for append, which the kernel
 * keeps whole. Write failures are swallowed: logging must never break the app. A stream, not a
 * {@code FileChannel}: an interrupted app thread that logs must not close the log for everyone.
 *
 * <pre>
 * 2025-01-31T12:00:00.123456789Z INFO  [pid 4242 main] connected to mirrord at 127.0.0.1:40123
 * </pre>
 *
 * <p>The line is put together by hand: the layer's first line is written at the start of its
 * attach, in the app's JVM, where {@code Instant.toString()} ({@code DateTimeFormatter}) and
 * {@code String.format} each cost 10-17 ms of cold code on their first use.
 */
public final class LayerLog {
  /** Severity; {@code log.level} picks the lowest one written. */
  public enum Level {
    DEBUG,
    INFO,
    WARN,
    ERROR;

    /** Parses {@code debug|info|warn|error} (any case); {@code null} if unknown. */
    public static Level parse(String s) {
      for (Level l : values()) {
        if (l.name().equalsIgnoreCase(s.trim())) {
          return l;
        }
      }
      return null;
    }
  }

  private static final LayerLog DISCARD = new LayerLog(null, null, Level.ERROR);

  private final FileOutputStream out;
  private final Path file;
  private final Level threshold;
  private final long pid = Pid.current();

  private LayerLog(FileOutputStream out, Path file, Level threshold) {
    this.out = out;
    this.file = file;
    this.threshold = threshold;
  }

  /** Opens {@code file} for append (creating it and its directory if needed). */
  public static LayerLog open(Path file, Level threshold) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    return new LayerLog(new FileOutputStream(file.toFile(), true), file, threshold);
  }

  /**
   * Appends one INFO line (if {@code threshold} lets it through) and closes the file: for a JVM the
   * layer stays out of, which keeps no file open. Never throws.
   */
  public static void appendOne(Path file, Level threshold, String message) {
    LayerLog log;
    try {
      log = open(file, threshold);
    } catch (IOException | RuntimeException e) {
      return;
    }
    try {
      log.info(message);
    } finally {
      try {
        log.out.close();
      } catch (IOException ignored) {
        // the line is written or lost; nothing else to do
      }
    }
  }

  /** A log that writes nothing (before the session file is read, and in tests). */
  public static LayerLog discard() {
    return DISCARD;
  }

  /** The file written to, or {@code null} for {@link #discard()}. */
  public Path file() {
    return file;
  }

  public boolean isEnabled(Level level) {
    return out != null && level.compareTo(threshold) >= 0;
  }

  public boolean isDebugEnabled() {
    return isEnabled(Level.DEBUG);
  }

  public void debug(String message) {
    log(Level.DEBUG, message, null);
  }

  public void info(String message) {
    log(Level.INFO, message, null);
  }

  public void warn(String message) {
    log(Level.WARN, message, null);
  }

  public void warn(String message, Throwable error) {
    log(Level.WARN, message, error);
  }

  public void error(String message) {
    log(Level.ERROR, message, null);
  }

  public void error(String message, Throwable error) {
    log(Level.ERROR, message, error);
  }

  public void log(Level level, String message, Throwable error) {
    if (!isEnabled(level)) {
      return;
    }
    StringBuilder line = new StringBuilder(96 + message.length());
    appendTimestamp(line, Instant.now());
    line.append(' ').append(level.name());
    for (int i = level.name().length(); i < 5; i++) {
      line.append(' ');
    }
    line.append(" [pid ")
        .append(pid)
        .append(' ')
        .append(Thread.currentThread().getName())
        .append("] ")
        .append(message)
        .append('\n');
    if (error != null) {
      StringWriter trace = new StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      line.append(trace);
    }
    byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      try {
        out.write(bytes);
      } catch (IOException | RuntimeException ignored) {
        // Nowhere left to report it; the app must not notice.
      }
    }
  }

  /** {@code t} in UTC as {@code yyyy-MM-ddTHH:mm:ss.nnnnnnnnnZ} (ISO-8601, always nine fraction digits). */
  static void appendTimestamp(StringBuilder line, Instant t) {
    long seconds = t.getEpochSecond();
    LocalDate day = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
    int secondOfDay = (int) Math.floorMod(seconds, 86_400);
    pad(line, day.getYear(), 4).append('-');
    pad(line, day.getMonthValue(), 2).append('-');
    pad(line, day.getDayOfMonth(), 2).append('T');
    pad(line, secondOfDay / 3600, 2).append(':');
    pad(line, secondOfDay / 60 % 60, 2).append(':');
    pad(line, secondOfDay % 60, 2).append('.');
    pad(line, t.getNano(), 9).append('Z');
  }

  private static StringBuilder pad(StringBuilder line, int value, int digits) {
    String s = Integer.toString(value);
    for (int i = s.length(); i < digits; i++) {
      line.append('0');
    }
    return line.append(s);
  }
}
