package dev.mirrord.jvm.layer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerLogTest {
  @TempDir Path dir;

  @Test
  void writesOneLinePerEventWithLevelPidAndThread() throws Exception {
    Path file = dir.resolve("sub/layer.log");
    LayerLog log = LayerLog.open(file, LayerLog.Level.INFO);

    log.info("hello");
    log.warn("careful");

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z INFO  \\[pid " + ProcessHandle.current().pid()
            + " [^]]+] hello");
    assertThat(lines.get(1)).contains("WARN  [pid").endsWith("] careful");
  }

  @Test
  void dropsLevelsBelowTheThreshold() throws Exception {
    Path file = dir.resolve("layer.log");
    LayerLog log = LayerLog.open(file, LayerLog.Level.INFO);

    log.debug("noise");
    log.error("bad");

    assertThat(Files.readAllLines(file)).singleElement().asString().endsWith("bad");
    assertThat(log.isDebugEnabled()).isFalse();
  }

  @Test
  void appendsToAnExistingFileAndAddsStackTraces() throws Exception {
    Path file = dir.resolve("layer.log");
    Files.writeString(file, "earlier line\n");
    LayerLog log = LayerLog.open(file, LayerLog.Level.DEBUG);

    log.error("failed", new IllegalStateException("why"));

    String text = Files.readString(file);
    assertThat(text).startsWith("earlier line\n").contains("failed\njava.lang.IllegalStateException: why");
  }

  @Test
  void anInterruptedThreadDoesNotBreakTheLog() throws Exception {
    Path file = dir.resolve("layer.log");
    LayerLog log = LayerLog.open(file, LayerLog.Level.INFO);

    Thread.currentThread().interrupt();
    try {
      log.info("while interrupted");
    } finally {
      Thread.interrupted();
    }
    log.info("after");

    assertThat(Files.readAllLines(file)).hasSize(2);
  }

  @Test
  void parsesLevels() {
    assertThat(LayerLog.Level.parse("Debug")).isEqualTo(LayerLog.Level.DEBUG);
    assertThat(LayerLog.Level.parse(" info ")).isEqualTo(LayerLog.Level.INFO);
    assertThat(LayerLog.Level.parse("verbose")).isNull();
  }

  @Test
  void discardWritesNothing() {
    assertThat(LayerLog.discard().isEnabled(LayerLog.Level.ERROR)).isFalse();
    assertThat(LayerLog.discard().file()).isNull();
    LayerLog.discard().error("nowhere");
  }

  @Test
  void timestampsAreIso8601InUtcWithNineFractionDigits() {
    DateTimeFormatter iso =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);
    SplittableRandom random = new SplittableRandom(42);
    List<Instant> instants = new ArrayList<>(List.of(
        Instant.EPOCH,
        Instant.parse("2000-02-29T23:59:59.999999999Z"),
        Instant.parse("2024-12-31T23:59:59.000000001Z"),
        Instant.parse("2025-01-01T00:00:00Z"),
        Instant.parse("2100-03-01T12:00:00.5Z"),
        Instant.parse("9999-12-31T23:59:59.123456789Z")));
    for (int i = 0; i < 10_000; i++) {
      instants.add(Instant.ofEpochSecond(random.nextLong(253_402_300_800L), random.nextInt(1_000_000_000)));
    }
    for (Instant t : instants) {
      StringBuilder line = new StringBuilder();
      LayerLog.appendTimestamp(line, t);
      assertThat(line.toString()).as("%s", t).isEqualTo(iso.format(t));
    }
  }
}
