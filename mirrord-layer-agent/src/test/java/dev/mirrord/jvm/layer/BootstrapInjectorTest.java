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
  void theListedClassesAreExactlyTheCompiledBootstrapPackage() throws Exception {
    Path classes = BootstrapInjector.agentLocation(LayerAgent.class);
    Path packageDir = classes.resolve("dev/mirrord/jvm/layer/bootstrap");
    List<String> compiled = new ArrayList<>();
    try (var files = Files.list(packageDir)) {
      files.map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".class") && !n.equals("package-info.class"))
          .forEach(n -> compiled.add("dev.mirrord.jvm.layer.bootstrap." + n.substring(0, n.length() - 6)));
    }

    assertThat(BootstrapInjector.CLASSES).containsExactlyInAnyOrderElementsOf(compiled);
    Map<String, byte[]> read = BootstrapInjector.read(classes, BootstrapInjector.CLASSES);
    assertThat(read.keySet()).containsExactlyElementsOf(BootstrapInjector.CLASSES);
    assertThat(read.get(BootstrapInjector.BRIDGE_CLASS))
        .isEqualTo(Files.readAllBytes(packageDir.resolve("LayerBridge.class")));
  }

  @Test
  void theShutdownSlotsAreCompiledAgainstTheJdksInternalsForJava17() throws Exception {
    Path classes = BootstrapInjector.agentLocation(LayerAgent.class);
    byte[] slots =
        BootstrapInjector.read(classes, List.of(AfterAppShutdownHooks.SLOTS_CLASS)).get(AfterAppShutdownHooks.SLOTS_CLASS);

    assertThat(((slots[6] & 0xff) << 8) | (slots[7] & 0xff)).as("class file major version").isEqualTo(61);
    assertThat(new String(slots, java.nio.charset.StandardCharsets.ISO_8859_1))
        .contains("jdk/internal/access/JavaLangAccess", "registerShutdownHook")
        .doesNotContain("java/lang/reflect/Method");
    assertThat(new String(
            Files.readAllBytes(classes.resolve("dev/mirrord/jvm/layer/AfterAppShutdownHooks.class")),
            java.nio.charset.StandardCharsets.ISO_8859_1))
        .as("the class that names it calls no Method.invoke either")
        .doesNotContain("java/lang/reflect/Method");
  }

  @Test
  void theDefinerIsCompiledAgainstTheJdksInternalsForJava17() throws Exception {
    Path classes = BootstrapInjector.agentLocation(LayerAgent.class);
    byte[] definer =
        BootstrapInjector.read(classes, List.of(BootstrapInjector.DEFINER_CLASS))
            .get(BootstrapInjector.DEFINER_CLASS);

    assertThat(((definer[6] & 0xff) << 8) | (definer[7] & 0xff)).as("class file major version").isEqualTo(61);
    assertThat(new String(definer, java.nio.charset.StandardCharsets.ISO_8859_1))
        .contains("jdk/internal/misc/Unsafe")
        .doesNotContain("java/lang/reflect/Method");
  }

  @Test
  void readsTheListedClassesFromAJarByNameAndWritesThemBack() throws Exception {
    Path jar = dir.resolve("agent.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      put(out, "dev/mirrord/jvm/layer/LayerAgent.class", new byte[] {1});
      put(out, "dev/mirrord/jvm/layer/bootstrap/LayerBridge.class", new byte[] {2});
      put(out, "dev/mirrord/jvm/layer/bootstrap/package-info.class", new byte[] {3});
      put(out, "dev/mirrord/jvm/layer/bootstrap/BypassGuard$Scope.class", new byte[] {4});
      put(out, "dev/mirrord/jvm/layer/shaded/io/netty/Channel.class", new byte[] {5});
    }

    Map<String, byte[]> read =
        BootstrapInjector.read(
            jar,
            List.of(
                "dev.mirrord.jvm.layer.bootstrap.BypassGuard$Scope",
                "dev.mirrord.jvm.layer.bootstrap.LayerBridge"));
    assertThat(read.keySet())
        .containsExactly(
            "dev.mirrord.jvm.layer.bootstrap.BypassGuard$Scope",
            "dev.mirrord.jvm.layer.bootstrap.LayerBridge");
    assertThat(read.get("dev.mirrord.jvm.layer.bootstrap.LayerBridge")).containsExactly(2);

    Path out = dir.resolve("boot.jar");
    BootstrapInjector.write(read, out);
    List<String> names = new ArrayList<>();
    try (JarFile written = new JarFile(out.toFile())) {
      Collections.list(written.entries()).forEach(e -> names.add(e.getName()));
    }
    assertThat(names)
        .containsExactly(
            "dev/mirrord/jvm/layer/bootstrap/BypassGuard$Scope.class",
            "dev/mirrord/jvm/layer/bootstrap/LayerBridge.class");
  }

  @Test
  void aMissingClassIsAnErrorThatNamesIt() throws Exception {
    Path jar = dir.resolve("partial.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      put(out, "dev/mirrord/jvm/layer/bootstrap/LayerBridge.class", new byte[] {1});
    }
    assertThatThrownBy(() -> BootstrapInjector.read(jar, BootstrapInjector.CLASSES))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no dev/mirrord/jvm/layer/bootstrap/HookResult.class in " + jar);
    assertThatThrownBy(() -> BootstrapInjector.read(dir, BootstrapInjector.CLASSES))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("HookResult.class");
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
