package dev.mirrord.jvm.cli.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.protocol.jvm.AotCache;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real JVMs (this JDK, 25+) started from caches made the way {@code mirrord aot-train} makes them ({@link
 * AotCache#recordFlags}, {@link AotCache#createCommand}, {@link AotCache#install}) for a small jar: a good cache is
 * used; a damaged or mismatched one never fails the run — the JVM starts without it and {@link
 * AotCache#refusedByThisJvm} gives the one line to log and deletes it, also when it was damaged after a first start
 * checked it whole (later starts skip that check); trainings racing for one cache leave a usable one.
 */
class AotCacheIT {
  @TempDir Path dir;
  private Path jar;
  private Path java;

  @BeforeEach
  void probeJar() throws IOException {
    assumeTrue(Runtime.version().feature() >= 25, "AOT caches need JDK 25");
    java = Path.of(System.getProperty("java.home"), "bin", "java");
    jar = dir.resolve("probe.jar");
    writeJar(false);
  }

  /** The probe jar: the probe and {@link AotCache}; {@code rebuilt} adds an entry (other bytes, other size). */
  private void writeJar(boolean rebuilt) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      if (rebuilt) {
        out.putNextEntry(new JarEntry("rebuilt.txt"));
        out.closeEntry();
      }
      for (Class<?> c : List.of(AotProbe.class, AotCache.class)) {
        String name = c.getName().replace('.', '/') + ".class";
        out.putNextEntry(new JarEntry(name));
        try (InputStream in = c.getClassLoader().getResourceAsStream(name)) {
          in.transferTo(out);
        }
        out.closeEntry();
      }
    }
  }

  private record Run(int code, String out) {}

  private Run run(List<String> cmd) throws Exception {
    Path log = Files.createTempFile(dir, "run", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", cmd).isTrue();
    return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  /** Trains and builds a cache for the probe jar into {@code target}, as aot-train does. */
  private void build(Path target) throws Exception {
    Path work = Files.createTempDirectory(dir, "train-");
    Path config = work.resolve("probe.aotconf");
    List<String> record = new ArrayList<>(List.of(java.toString()));
    record.addAll(AotCache.recordFlags(config));
    record.addAll(List.of("-cp", jar.toString(), AotProbe.class.getName()));
    Run trained = run(record);
    assertThat(trained.code()).as(trained.out()).isZero();
    Path built = work.resolve("probe.aot");
    Run created = run(AotCache.createCommand(java, List.of(), config, built, jar));
    assertThat(created.code()).as(created.out()).isZero();
    AotCache.install(built, target);
  }

  private Run probe(Path cache) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java.toString()));
    cmd.addAll(AotCache.useFlags(cache));
    cmd.addAll(List.of("-cp", jar.toString(), AotProbe.class.getName()));
    return run(cmd);
  }

  private Path cacheFile() throws IOException {
    return AotCache.file(dir, jar, Path.of(System.getProperty("java.home")), System.getProperty("java.runtime.version"));
  }

  @Test
  void aBuiltCacheIsFoundAndUsed() throws Exception {
    Path cache = cacheFile();
    build(cache);

    Run r = probe(cache);

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("sharing=true").contains("refused=none");
    assertThat(cache).exists();
    assertThat(r.out()).as("the first start checks the whole file and records it")
        .contains("verified=" + AotCache.marker(cache));
    assertThat(AotCache.useFlags(cache)).doesNotContain("-XX:+VerifySharedSpaces");

    Run again = probe(cache);

    assertThat(again.out()).as("a later start skips the check")
        .contains("sharing=true").contains("refused=none").contains("verified=none");
  }

  @Test
  void aDamagedCacheNeverFailsARunItIsReportedOnceAndRemovedForTheRebuild() throws Exception {
    Path cache = cacheFile();
    build(cache);
    assertThat(probe(cache).out()).as("checked whole once: later starts skip the check")
        .contains("verified=" + AotCache.marker(cache));
    Thread.sleep(20); // file times move in the kernel's clock ticks (a few ms)
    byte[] data = Files.readAllBytes(cache);
    for (int i = data.length / 2; i < data.length / 2 + 4096; i++) {
      data[i] ^= 0x5a; // the middle of the classes: without the checksum check the JVM would crash on it
    }
    Files.write(cache, data);

    Run r = probe(cache);

    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.out()).as("the JVM's own complaint is switched off").doesNotContain("[aot]").doesNotContain("[cds]");
    assertThat(r.out().lines().filter(l -> l.startsWith("refused=")))
        .singleElement()
        .satisfies(l -> assertThat(l).contains("was not usable").contains(cache.toString()));
    assertThat(cache).as("removed, so that the next bin/mirrord builds it again").doesNotExist();
    assertThat(AotCache.marker(cache)).as("and its marker with it").doesNotExist();
    assertThat(probe(cache).out()).as("and without it the JVM just starts").contains("refused=none");
  }

  @Test
  void aRebuiltJarIsAMissAndItsNewCacheReplacesTheOldOne() throws Exception {
    Path old = cacheFile();
    build(old);
    // JDK 25 does not notice a changed jar behind a cache (it would run the old classes): the name carries the
    // jar's size and mtime, so a rebuilt jar never meets the old cache
    writeJar(true);
    Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 5000));

    Path rebuilt = cacheFile();
    assertThat(rebuilt).isNotEqualTo(old);
    assertThat(AotCache.useFlags(rebuilt)).as("no cache for the new build yet").isEmpty();
    assertThat(probe(rebuilt).out()).contains("refused=none");

    build(rebuilt);

    assertThat(probe(rebuilt).out()).contains("sharing=true").contains("refused=none");
    assertThat(old).as("the old build's cache is gone").doesNotExist();
  }

  @Test
  void trainingsRacingForOneCacheLeaveAUsableOne() throws Exception {
    Path cache = cacheFile();
    List<CompletableFuture<Void>> racers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      racers.add(CompletableFuture.runAsync(() -> {
        try {
          build(cache);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    for (CompletableFuture<Void> r : racers) {
      r.get(300, TimeUnit.SECONDS);
    }

    assertThat(probe(cache).out()).contains("sharing=true").contains("refused=none");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".aot")))
          .containsExactly(cache.getFileName().toString());
    }
  }
}
