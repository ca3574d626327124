package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AotCacheTest {
  @TempDir Path dir;

  private static final Path JDK = Path.of(System.getProperty("java.home"));

  @Test
  void theCacheDirectoryComesFromTheEnvironmentAndOffSwitchesEverythingOff() {
    assertThat(AotCache.root(Map.of("HOME", "/home/u")::get)).isEqualTo(Path.of("/home/u/.cache/mirrord-jvm"));
    assertThat(AotCache.root(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg")::get))
        .isEqualTo(Path.of("/xdg/mirrord-jvm"));
    assertThat(AotCache.root(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", "/xdg", "MIRRORD_AOT_CACHE_DIR", "/c")::get))
        .isEqualTo(Path.of("/c"));
    assertThat(AotCache.root(Map.of("HOME", "/home/u", "MIRRORD_AOT_CACHE_DIR", "/c", "MIRRORD_AOT", "off")::get))
        .isNull();
    assertThat(AotCache.root(Map.<String, String>of()::get)).isNull();
  }

  @Test
  void aCacheIsNamedAfterItsJarAndAnotherBuildOfTheJarIsAnotherName() throws Exception {
    Path jar = Files.writeString(dir.resolve("mirrord-pod-agent.jar"), "v1");
    Path first = AotCache.file(dir, jar, JDK, "25.0.3+9-LTS");

    assertThat(first.getFileName().toString()).matches("mirrord-pod-agent-[0-9a-f]{8}-[0-9a-f]{8}\\.aot");
    assertThat(AotCache.file(dir, jar, JDK, "25.0.3+9-LTS")).isEqualTo(first);
    assertThat(AotCache.file(dir, jar, JDK, "25.0.4+7-LTS")).as("another JDK").isNotEqualTo(first);
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5000));
    Path rebuilt = AotCache.file(dir, jar, JDK, "25.0.3+9-LTS");
    assertThat(rebuilt).as("a rebuilt jar").isNotEqualTo(first);
    assertThat(rebuilt.getFileName().toString())
        .as("same jar path: same prefix, so the new cache replaces the old one")
        .startsWith(first.getFileName().toString().substring(0, first.getFileName().toString().lastIndexOf('-') + 1));
  }

  @Test
  void bashComputesTheSameNameAsJava() throws Exception {
    // bin/mirrord names the CLI's cache (scripts/aot-cache-name.sh); the agent's is named here: they must agree
    Path jar = Files.writeString(dir.resolve("mirrord-cli.jar"), "content");
    Path real = jar.toRealPath();
    Path script = Path.of("..", "scripts", "aot-cache-name.sh").toAbsolutePath().normalize();
    Process p = new ProcessBuilder("bash", "-c",
        "source \"$1\" && mirrord_aot_cache_name \"$2\" \"$3\" \"$4\" \"$5\" \"$6\" \"$7\" && printf '%s' \"$REPLY\"",
        "-", script.toString(), dir.toString(), real.toString(), String.valueOf(Files.size(real)),
        String.valueOf(Files.getLastModifiedTime(real).toMillis() / 1000), JDK.toRealPath().toString(),
        "25.0.3+9-LTS").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).as(out).isZero();

    assertThat(out).isEqualTo(AotCache.file(dir, jar, JDK, "25.0.3+9-LTS").toString());
  }

  @Test
  void aStampsTimesHaveNineDecimalsAndNamesEightHexDigits() throws Exception {
    Path file = Files.writeString(dir.resolve("t.aot"), "x");
    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(java.time.Instant.ofEpochSecond(1_700_000_000L, 1_234)));

    assertThat(AotCache.stamp(file)).matches("1,\\d+,1700000000\\.000001234,\\d+\\.\\d{9}");
    assertThat(AotCache.fnv("")).isEqualTo("811c9dc5");
    assertThat(AotCache.fnv("a")).isEqualTo("e40c292c");
    assertThat(AotCache.fnv("/opt/m\u00e9rrord/\uD83D\uDE00.jar")).matches("[0-9a-f]{8}");
  }

  @Test
  void aStampIsWhatStatPrintsForTheFileBinMirrordReadsIt() throws Exception {
    // bin/mirrord stamps the CLI's cache with stat; the CLI writes the marker with this: they must agree
    Path cache = Files.writeString(dir.resolve("c.aot"), "cache");
    Process p = new ProcessBuilder("stat", "-L", "-c", "%s,%i,%.9Y,%.9Z", cache.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    assertThat(p.waitFor()).as(out).isZero();

    assertThat(AotCache.stamp(cache)).isEqualTo(out).matches("5,\\d+,\\d+\\.\\d{9},\\d+\\.\\d{9}");
    assertThat(AotCache.stamp(dir.resolve("missing.aot"))).isNull();
  }

  @Test
  void aCacheIsCheckedWholeUntilAJvmRecordedItsCheckAndAgainOnceTheFileChanged() throws Exception {
    Path cache = Files.writeString(dir.resolve("c.aot"), "cache");
    String stamp = AotCache.stamp(cache);

    assertThat(AotCache.useFlags(cache))
        .as("never checked")
        .contains("-XX:+VerifySharedSpaces", "-D" + AotCache.STAMP_PROPERTY + "=" + stamp);

    Files.writeString(AotCache.marker(cache), stamp + "\n");
    assertThat(AotCache.useFlags(cache))
        .as("checked by an earlier start")
        .contains("-XX:AOTCache=" + cache, "-D" + AotCache.PROPERTY + "=" + cache)
        .noneMatch(f -> f.contains("VerifySharedSpaces") || f.contains(AotCache.STAMP_PROPERTY));

    Thread.sleep(20); // file times move in the kernel's clock ticks (a few ms)
    Files.writeString(cache, "cachf"); // same size, a write in place
    assertThat(AotCache.useFlags(cache)).as("written since").contains("-XX:+VerifySharedSpaces");
    Files.writeString(AotCache.marker(cache), AotCache.stamp(cache));
    assertThat(AotCache.useFlags(cache)).doesNotContain("-XX:+VerifySharedSpaces");

    Path other = Files.writeString(dir.resolve("other"), "cachf");
    Files.setLastModifiedTime(other, Files.getLastModifiedTime(cache));
    Files.move(other, cache, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertThat(AotCache.useFlags(cache)).as("another file in its place").contains("-XX:+VerifySharedSpaces");

    Files.writeString(AotCache.marker(cache), "garbage");
    assertThat(AotCache.useFlags(cache)).contains("-XX:+VerifySharedSpaces");
  }

  @Test
  void aJvmThatWasNotAskedToCheckItsCacheRecordsNothing() {
    assertThat(AotCache.recordVerified()).as("no cache, no stamp").isNull();
  }

  @Test
  void installingACacheReplacesTheOlderOnesOfThatJarAndForgottenOnes() throws Exception {
    Path old = Files.writeString(dir.resolve("mirrord-cli-aaaaaaaa-000000000001.aot"), "old build");
    Path otherJar = Files.writeString(dir.resolve("mirrord-cli-bbbbbbbb-000000000001.aot"), "another checkout");
    Path forgotten = Files.writeString(dir.resolve("mirrord-cli-cccccccc-000000000001.aot"), "a deleted checkout");
    Files.setLastModifiedTime(forgotten, FileTime.fromMillis(System.currentTimeMillis() - 15 * 86_400_000L));
    Path built = Files.writeString(dir.resolve("train-1.aot.tmp"), "new build");
    Path target = dir.resolve("mirrord-cli-aaaaaaaa-000000000002.aot");

    Path oldMarker = Files.writeString(AotCache.marker(old), "1,2,3.000000000,4.000000000");
    Path orphan = Files.writeString(dir.resolve("mirrord-cli-dddddddd-000000000001.aot.verified"), "x");

    AotCache.install(built, target);

    assertThat(oldMarker).as("goes with its cache").doesNotExist();
    assertThat(orphan).as("another jar's marker is its business").exists();
    assertThat(target).hasContent("new build");
    assertThat(built).doesNotExist();
    assertThat(old).doesNotExist();
    assertThat(otherJar).as("in use elsewhere").exists();
    assertThat(forgotten).as("not rebuilt for two weeks").doesNotExist();
  }

  @Test
  void useFlagsOnlyForAnExistingCacheAndAlwaysWithTheChecksumVerified() throws Exception {
    Path cache = dir.resolve("c.aot");
    assertThat(AotCache.useFlags(cache)).isEmpty();
    assertThat(AotCache.useFlags(null)).isEmpty();
    Files.writeString(cache, "x");

    assertThat(AotCache.useFlags(cache))
        .contains("-XX:AOTCache=" + cache, "-XX:+VerifySharedSpaces", "-D" + AotCache.PROPERTY + "=" + cache);
  }

  @Test
  void aJvmThatSharesClassesDidNotRefuseItsCache() {
    assertThat(AotCache.refusedByThisJvm()).as("no cache asked for").isNull();
  }

  @Test
  void agentJvmOptionsFilesAreArgumentFilesWithComments() {
    assertThat(AgentJvmOptions.parse("# heap\n-Xmx48m\n\n  # GC\n  -XX:+UseSerialGC  \n"))
        .containsExactly("-Xmx48m", "-XX:+UseSerialGC");
    assertThat(AgentJvmOptions.parse("")).isEmpty();
  }
}
