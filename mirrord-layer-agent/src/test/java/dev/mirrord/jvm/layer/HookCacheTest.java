package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HookCacheTest {
  @TempDir Path dir;

  private static final byte[] INPUT = "class bytes as the JVM handed them".getBytes(StandardCharsets.UTF_8);
  private static final byte[] OUTPUT = "the hooked class".getBytes(StandardCharsets.UTF_8);

  private HookCache cache() {
    return new HookCache(dir.resolve("hooks"), LayerLog.discard());
  }

  @Test
  void aStoredHookIsFoundForTheSameBytesOnly() {
    HookCache cache = cache();
    assertThat(cache.lookup("java.net.Socket", INPUT).status()).isEqualTo(HookCache.Status.MISS);

    cache.store("java.net.Socket", INPUT, OUTPUT);

    HookCache.Lookup hit = cache.lookup("java.net.Socket", INPUT);
    assertThat(hit.status()).isEqualTo(HookCache.Status.HIT);
    assertThat(hit.bytes()).isEqualTo(OUTPUT);
    assertThat(cache.lookup("java.net.Socket", "other bytes".getBytes(StandardCharsets.UTF_8)).status())
        .as("another JDK's (or another agent's) bytes of the same class")
        .isEqualTo(HookCache.Status.MISS);
    assertThat(cache.lookup("java.net.ServerSocket", INPUT).status()).isEqualTo(HookCache.Status.MISS);
  }

  @Test
  void aClassByteBuddyLeftAloneIsRememberedAsUnchanged() {
    HookCache cache = cache();
    cache.store("sun.nio.ch.DatagramSocketAdaptor", INPUT, null);

    HookCache.Lookup hit = cache.lookup("sun.nio.ch.DatagramSocketAdaptor", INPUT);
    assertThat(hit.status()).isEqualTo(HookCache.Status.HIT);
    assertThat(hit.bytes()).as("null: the JVM keeps the class as it is").isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"flipped", "truncated", "garbage", "empty", "longer"})
  void aDamagedEntryIsNeverHandedOutItIsDeletedAndRebuilt(String damage) throws Exception {
    HookCache cache = cache();
    cache.store("java.net.Socket", INPUT, OUTPUT);
    Path file = cache.file("java.net.Socket", INPUT);
    byte[] data = Files.readAllBytes(file);
    switch (damage) {
      case "flipped" -> data[data.length - 3] ^= 0x40;
      case "truncated" -> data = java.util.Arrays.copyOf(data, data.length - 5);
      case "garbage" -> java.util.Arrays.fill(data, (byte) 0x5a);
      case "empty" -> data = new byte[0];
      case "longer" -> data = java.util.Arrays.copyOf(data, data.length + 7);
      default -> throw new AssertionError(damage);
    }
    Files.write(file, data);

    HookCache.Lookup found = cache.lookup("java.net.Socket", INPUT);

    assertThat(found.status()).isEqualTo(HookCache.Status.CORRUPT);
    assertThat(found.bytes()).isNull();
    assertThat(found.problem()).isNotBlank();
    assertThat(file).as("deleted, so that it is rebuilt").doesNotExist();
    cache.store("java.net.Socket", INPUT, OUTPUT);
    assertThat(cache.lookup("java.net.Socket", INPUT).bytes()).isEqualTo(OUTPUT);
  }

  @Test
  void jvmsRacingToStoreTheSameEntryLeaveAWholeOneAndReadersNeverSeeAPartOfIt() throws Exception {
    int writers = 4;
    int rounds = 200;
    List<byte[]> outputs = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      byte[] out = new byte[64 * 1024 + w];
      java.util.Arrays.fill(out, (byte) w);
      outputs.add(out);
    }
    Set<HookCache.Status> seen = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<?>> tasks = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        byte[] out = outputs.get(w);
        // each writer its own HookCache, as each JVM has its own
        HookCache own = cache();
        tasks.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < rounds; i++) {
            own.store("java.net.Socket", INPUT, out);
          }
          return null;
        }));
      }
      for (int r = 0; r < 2; r++) {
        HookCache reader = cache();
        tasks.add(pool.submit(() -> {
          go.await();
          for (int i = 0; i < rounds * 2; i++) {
            HookCache.Lookup l = reader.lookup("java.net.Socket", INPUT);
            seen.add(l.status());
            if (l.status() == HookCache.Status.HIT) {
              assertThat(outputs).anySatisfy(o -> assertThat(l.bytes()).isEqualTo(o));
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> t : tasks) {
        t.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(seen).doesNotContain(HookCache.Status.CORRUPT);
    assertThat(cache().lookup("java.net.Socket", INPUT).status()).isEqualTo(HookCache.Status.HIT);
    try (Stream<Path> files = Files.list(dir.resolve("hooks"))) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("one entry, no temporary file left")
          .containsExactly(cache().file("java.net.Socket", INPUT).getFileName().toString());
    }
  }

  @Test
  void theDirectoryIsKeyedToTheLayersBuildAndTheJdk() throws Exception {
    Path first = HookCache.forBuild(dir, "0.1.0+20261206171500000", LayerLog.discard()).dir();
    assertThat(HookCache.forBuild(dir, "0.1.0+20261206171500000", LayerLog.discard()).dir()).isEqualTo(first);

    assertThat(HookCache.forBuild(dir, "0.1.0+20261206171500001", LayerLog.discard()).dir())
        .as("a rebuilt layer starts a cache of its own")
        .isNotEqualTo(first)
        .satisfies(p -> assertThat(p.getParent()).isEqualTo(dir));
    assertThat(HookCache.forBuild(null, "0.1.0+20261206171500000", LayerLog.discard()))
        .as("no cache directory: no cache").isNull();
  }

  @Test
  void theLayersBuildIdIsWrittenInAtBuildTime() {
    assertThat(LayerBuild.VERSION).doesNotContain("${").matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(LayerBuild.ID)
        .as("the version and the build's time to the millisecond")
        .matches(java.util.regex.Pattern.quote(LayerBuild.VERSION) + "\\+\\d{17}");
    assertThat(LayerStartup.version()).isEqualTo(LayerBuild.VERSION);
  }

  @Test
  void aNewBuildsDirectoryRemovesOthersUntouchedForTwoWeeks() throws Exception {
    Path old = Files.createDirectories(dir.resolve("hooks-0000000a-100"));
    Files.writeString(old.resolve("java.net.Socket-1.hook"), "x");
    Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 15 * 86_400_000L));
    Path recent = Files.createDirectories(dir.resolve("hooks-0000000b-100"));
    Path notOurs = Files.createDirectories(dir.resolve("something-else"));
    Files.setLastModifiedTime(notOurs, FileTime.fromMillis(0));

    new HookCache(dir.resolve("hooks-0000000c-100"), LayerLog.discard()).store("java.net.Socket", INPUT, OUTPUT);

    assertThat(old).doesNotExist();
    assertThat(recent).exists();
    assertThat(notOurs).exists();
  }

  @Test
  void anUnwritableDirectoryMeansNoCacheNotAFailure() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    HookCache cache = new HookCache(file.resolve("hooks"), LayerLog.discard());

    cache.store("java.net.Socket", INPUT, OUTPUT);

    assertThat(cache.lookup("java.net.Socket", INPUT).status()).isEqualTo(HookCache.Status.MISS);
  }
}
