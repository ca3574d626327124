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
  void installingACacheReplacesTheOlderOnesOfThatJarAndForgottenOnes() throws Exception {
    Path old = Files.writeString(dir.resolve("mirrord-cli-aaaaaaaa-000000000001.aot"), "old build");
    Path otherJar = Files.writeString(dir.resolve("mirrord-cli-bbbbbbbb-000000000001.aot"), "another checkout");
    Path forgotten = Files.writeString(dir.resolve("mirrord-cli-cccccccc-000000000001.aot"), "a deleted checkout");
    Files.setLastModifiedTime(forgotten, FileTime.fromMillis(System.currentTimeMillis() - 15 * 86_400_000L));
    Path built = Files.writeString(dir.resolve("train-1.aot.tmp"), "new build");
    Path target = dir.resolve("mirrord-cli-aaaaaaaa-000000000002.aot");

    AotCache.install(built, target);

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
