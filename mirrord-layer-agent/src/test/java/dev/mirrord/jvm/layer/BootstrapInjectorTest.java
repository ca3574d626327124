package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapInjectorTest {
  @TempDir Path dir;

  @Test
  void readsOnlyTheBootstrapPackageFromAClassesDirectory() throws Exception {
    Path classes = BootstrapInjector.agentLocation(LayerAgent.class);

    Map<String, byte[]> read = BootstrapInjector.read(classes);

    assertThat(read.keySet())
        .contains(
            "dev.mirrord.jvm.layer.bootstrap.LayerBridge",
            "dev.mirrord.jvm.layer.bootstrap.LayerHooks",
            "dev.mirrord.jvm.layer.bootstrap.BypassGuard",
            "dev.mirrord.jvm.layer.bootstrap.BypassGuard$Scope",
            "dev.mirrord.jvm.layer.bootstrap.HookResult",
            "dev.mirrord.jvm.layer.bootstrap.HookResult$Reason")
        .allMatch(n -> n.startsWith("dev.mirrord.jvm.layer.bootstrap."))
        .doesNotContain("dev.mirrord.jvm.layer.bootstrap.package-info");
  }

  @Test
  void readsOnlyTheBootstrapPackageFromAJarAndWritesItBack() throws Exception {
    Path jar = dir.resolve("agent.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      put(out, "dev/mirrord/jvm/layer/LayerAgent.class", new byte[] {1});
      put(out, "dev/mirrord/jvm/layer/bootstrap/LayerBridge.class", new byte[] {2});
      put(out, "dev/mirrord/jvm/layer/bootstrap/package-info.class", new byte[] {3});
      put(out, "dev/mirrord/jvm/layer/bootstrap/sub/Other.class", new byte[] {4});
      put(out, "dev/mirrord/jvm/layer/shaded/io/netty/Channel.class", new byte[] {5});
    }

    Map<String, byte[]> read = BootstrapInjector.read(jar);
    assertThat(read).containsOnlyKeys("dev.mirrord.jvm.layer.bootstrap.LayerBridge");
    assertThat(read.get("dev.mirrord.jvm.layer.bootstrap.LayerBridge")).containsExactly(2);

    Path out = dir.resolve("boot.jar");
    BootstrapInjector.write(read, out);
    List<String> names = new ArrayList<>();
    try (JarFile written = new JarFile(out.toFile())) {
      Collections.list(written.entries()).forEach(e -> names.add(e.getName()));
    }
    assertThat(names).containsExactly("dev/mirrord/jvm/layer/bootstrap/LayerBridge.class");
  }

  @Test
  void aJarWithoutTheBootstrapPackageIsAnError() throws Exception {
    Path jar = dir.resolve("empty.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      put(out, "a/B.class", new byte[] {1});
    }
    assertThatThrownBy(() -> BootstrapInjector.read(jar))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no dev/mirrord/jvm/layer/bootstrap/ classes");
  }

  @Test
  void theBridgeIsNotBootVisibleInAPlainTestJvm() {
    assertThat(BootstrapInjector.bootVisible()).isFalse();
  }

  private static void put(JarOutputStream out, String name, byte[] bytes) throws IOException {
    out.putNextEntry(new JarEntry(name));
    ((OutputStream) out).write(bytes);
    out.closeEntry();
  }
}
