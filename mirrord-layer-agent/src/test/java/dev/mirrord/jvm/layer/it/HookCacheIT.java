package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.ProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The layer's hook cache ({@code hook.cache.dir}) in child JVMs against FakeAgent: the first JVM hooks with Byte
 * Buddy and fills the cache, the next ones hook from it without loading Byte Buddy; a damaged entry is ignored with
 * one log line and rebuilt; JVMs racing on an empty cache leave it whole.
 */
class HookCacheIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  @TempDir Path dir;
  private FakeAgent agent;
  private Path cache;
  private int runs;

  @BeforeEach
  void start() throws IOException {
    agent = FakeAgent.start();
    cache = Files.createDirectories(dir.resolve("cache"));
  }

  @AfterEach
  void stop() {
    agent.close();
  }

  /** One ProbeApp under the layer with the cache; returns its layer log. The probe's hooks must have worked. */
  private String probe(Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path run = Files.createDirectories(dir.resolve("run-" + ++runs));
    int fixed = freePort();
    Path session =
        SessionFile.write(
            run,
            agent.port(),
            Map.of(
                "hook.cache.dir", cache.toString(),
                "log.level", "debug",
                "port.map", fixed + ":80"));
    ChildJvm.Result r =
        ChildJvm.run(jdk, session.toString(), List.of(ChildJvm.testClasses()), ProbeApp.class, List.of("7", "" + fixed), run);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(7);
    assertThat(r.stderr()).as("the app sees nothing of the cache").isEmpty();
    String log = Files.readString(run.resolve("layer.log"));
    assertThat(log)
        .as("the hooks work: the fixed port's listen was seen and subscribed")
        .contains("listen port=" + fixed + " requested=" + fixed)
        .contains("subscribed target port 80 (MIRROR)")
        .doesNotContain("could not hook");
    return log;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private List<Path> entries() throws IOException {
    try (Stream<Path> files = Files.walk(cache)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".hook")).toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theSecondJvmHooksFromTheCacheWithoutByteBuddy(String name, Path jdk) throws Exception {
    String first = probe(jdk);
    assertThat(first).contains("hooks ready; Byte Buddy loaded").contains("hooked java.net.ServerSocket");
    assertThat(entries()).as("the loaded hooked classes and the JDK's others, prepared").hasSizeGreaterThan(3);

    String second = probe(jdk);

    assertThat(second)
        .contains("hooks ready; Byte Buddy not needed")
        .contains("(cached)")
        .doesNotContain("Byte Buddy ready")
        .doesNotContain("hook cache: stored");
  }

  @Test
  void aDamagedEntryIsIgnoredWithOneLineAndRebuilt() throws Exception {
    Path jdk = Path.of(System.getProperty("java.home"));
    probe(jdk);
    List<Path> damaged = entries();
    for (Path e : damaged) {
      byte[] data = Files.readAllBytes(e);
      data[data.length - 1] ^= 0x21; // the hooked class's last byte (or the header of an "unchanged" entry)
      data[4] ^= 0x21;
      Files.write(e, data);
    }

    String log = probe(jdk);

    List<String> lines = log.lines().filter(l -> l.contains("ignored the damaged entry for")).toList();
    assertThat(lines).as("one line per damaged entry this JVM needed").isNotEmpty();
    assertThat(lines.stream().map(l -> l.replaceAll(".*entry for (\\S+) .*", "$1")).distinct().count())
        .isEqualTo(lines.size());
    assertThat(lines).allSatisfy(l -> assertThat(l).contains(" WARN "));
    assertThat(probe(jdk)).as("rebuilt: the next JVM needs no Byte Buddy").contains("hooks ready; Byte Buddy not needed");
  }

  @Test
  void jvmsRacingOnAnEmptyCacheLeaveItWhole() throws Exception {
    Path jdk = Path.of(System.getProperty("java.home"));
    List<CompletableFuture<String>> racers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      racers.add(CompletableFuture.supplyAsync(() -> {
        try {
          return probe(jdk);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    for (CompletableFuture<String> r : racers) {
      assertThat(r.get()).doesNotContain("damaged");
    }

    assertThat(probe(jdk)).contains("hooks ready; Byte Buddy not needed").doesNotContain("damaged");
    try (Stream<Path> files = Files.walk(cache)) {
      assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }
}
