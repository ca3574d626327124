package dev.mirrord.jvm.layer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        .matches("\\S+Z INFO  \\[pid " + ProcessHandle.current().pid() + " [^]]+] hello");
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
}
