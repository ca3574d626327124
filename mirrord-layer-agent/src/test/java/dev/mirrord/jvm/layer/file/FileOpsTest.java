package dev.mirrord.jvm.layer.file;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.LayerConfig;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FileOpsTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0} in {1} = {2}")
  @CsvSource({
    "/etc/hosts, /work, /etc/hosts",
    "/etc//hosts, /work, /etc/hosts",
    "/etc/./hosts, /work, /etc/hosts",
    "/etc/../etc/hosts, /work, /etc/hosts",
    "/../../etc/hosts, /work, /etc/hosts",
    "hosts, /etc, /etc/hosts",
    "../etc/resolv.conf, /tmp, /etc/resolv.conf",
    "./etc/hosts, /, /etc/hosts",
    "etc/hosts, /work, /work/etc/hosts",
    "/etc/hosts/, /work, /etc/hosts",
  })
  void pathsAreComparedAbsoluteAndLexicallyNormalized(String path, String cwd, String normalized) {
    assertThat(FileOps.normalize(path, cwd)).isEqualTo(normalized);
  }

  @Test
  void onlyTheTwoResolverFilesAreRedirected() {
    FileOps ops = new FileOps(Map.of("/etc/hosts", "/s/target-hosts", "/etc/resolv.conf", "/s/target-resolv.conf"),
        "/etc", LayerLog.discard());

    assertThat(ops.readInstead("/etc/hosts")).isEqualTo("/s/target-hosts");
    assertThat(ops.readInstead("resolv.conf")).isEqualTo("/s/target-resolv.conf");
    assertThat(ops.readInstead("/etc/hosts.allow")).isNull();
    assertThat(ops.readInstead("/tmp/etc/hosts")).isNull();
    assertThat(ops.readInstead("/etc/resolv.conf.bak")).isNull();
    assertThat(ops.readInstead("")).isNull();
  }

  @Test
  void aMissingCopyIsDroppedAndTheProblemsMakeOneWarning() throws Exception {
    Path resolv = Files.writeString(dir.resolve("target-resolv.conf"), "nameserver 198.18.0.53\n");
    Path log = dir.resolve("layer.log");
    LayerLog layerLog = LayerLog.open(log, LayerLog.Level.INFO);

    FileOps ops = FileOps.forConfig(
        new LayerConfig.ResolverFiles(resolv, dir.resolve("gone"), "the CLI's problem"), layerLog);

    assertThat(ops.redirectsAny()).isTrue();
    assertThat(ops.readInstead("/etc/resolv.conf")).isEqualTo(resolv.toString());
    assertThat(ops.readInstead("/etc/hosts")).isNull();
    assertThat(Files.readAllLines(log).stream().filter(l -> l.contains("WARN")))
        .singleElement().asString()
        .contains("the CLI's problem; the copy of the target's /etc/hosts (" + dir.resolve("gone") + ") cannot be read");
    assertThat(FileOps.forConfig(LayerConfig.ResolverFiles.NONE, layerLog).redirectsAny()).isFalse();
  }
}
