package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.OwnLibsApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The shaded jar leaks nothing: no unrelocated class, no service file, no foreign versions. */
class ShadedJarIT {
  private static final String BOOTSTRAP = "dev/mirrord/jvm/layer/bootstrap/";

  @TempDir Path dir;

  private static List<String> entries() throws IOException {
    try (JarFile jar = new JarFile(ChildJvm.layerJar().toFile())) {
      return Collections.list(jar.entries()).stream()
          .map(JarEntry::getName)
          .collect(Collectors.toList());
    }
  }

  @Test
  void everyClassLivesUnderDevMirrordJvm() throws Exception {
    List<String> classes =
        entries().stream().filter(n -> n.endsWith(".class")).collect(Collectors.toList());

    assertThat(classes).hasSizeGreaterThan(1000).allMatch(n -> n.startsWith("dev/mirrord/jvm/"));
    assertThat(entries())
        .noneMatch(n -> n.startsWith("io/netty/"))
        .noneMatch(n -> n.startsWith("net/bytebuddy/"))
        .noneMatch(n -> n.startsWith("dev/mirrord/jvm/protocol/"))
        .contains(
            "dev/mirrord/jvm/layer/shaded/io/netty/channel/Channel.class",
            "dev/mirrord/jvm/layer/shaded/net/bytebuddy/ByteBuddy.class",
            "dev/mirrord/jvm/layer/shaded/protocol/codec/ProtocolPipeline.class");
  }

  @Test
  void theBootstrapPackageIsPresentUnrelocated() throws Exception {
    assertThat(entries())
        .contains(
            BOOTSTRAP + "LayerBridge.class",
            BOOTSTRAP + "LayerHooks.class",
            BOOTSTRAP + "BypassGuard.class",
            BOOTSTRAP + "HookResult.class")
        .noneMatch(n -> n.startsWith("dev/mirrord/jvm/layer/shaded/dev/"));
  }

  @Test
  void theBootstrapPackageReferencesOnlyItselfAndTheJdk() throws Exception {
    Pattern ourTypes = Pattern.compile("dev/mirrord/jvm/[A-Za-z0-9_/$]+");
    try (JarFile jar = new JarFile(ChildJvm.layerJar().toFile())) {
      for (JarEntry e : Collections.list(jar.entries())) {
        if (!e.getName().startsWith(BOOTSTRAP) || !e.getName().endsWith(".class")) {
          continue;
        }
        String constants;
        try (InputStream in = jar.getInputStream(e)) {
          constants = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        assertThat(constants).as(e.getName()).doesNotContain("io/netty", "net/bytebuddy");
        Matcher m = ourTypes.matcher(constants);
        while (m.find()) {
          assertThat(m.group()).as(e.getName()).startsWith(BOOTSTRAP);
        }
      }
    }
  }

  @Test
  void theManifestDeclaresTheAgent() throws Exception {
    try (JarFile jar = new JarFile(ChildJvm.layerJar().toFile())) {
      Attributes a = jar.getManifest().getMainAttributes();
      assertThat(a.getValue("Premain-Class")).isEqualTo("dev.mirrord.jvm.layer.LayerAgent");
      assertThat(a.getValue("Agent-Class")).isEqualTo("dev.mirrord.jvm.layer.LayerAgent");
      assertThat(a.getValue("Can-Retransform-Classes")).isEqualTo("true");
      assertThat(a.getValue("Can-Redefine-Classes")).isEqualTo("true");
      assertThat(a.getValue("Boot-Class-Path"))
          .as("the jar's own name, relative to it: the boot loader loads the whole layer (BootstrapInjector)")
          .isEqualTo(ChildJvm.layerJar().getFileName().toString());
    }
  }

  @Test
  void noServiceFilesNativeLibrariesOrForeignVersionFiles() throws Exception {
    assertThat(entries())
        .noneMatch(n -> n.startsWith("META-INF/services/"))
        .noneMatch(n -> n.startsWith("META-INF/native"))
        .noneMatch(n -> n.startsWith("META-INF/versions/"))
        .noneMatch(n -> n.startsWith("META-INF/maven/"))
        .noneMatch(n -> n.endsWith(".so") || n.endsWith(".jnilib") || n.endsWith(".dll"))
        .noneMatch(n -> n.endsWith("module-info.class"))
        .doesNotContain("META-INF/io.netty.versions.properties");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.mirrord.jvm.layer.testing.ChildJvm#jdks")
  void anAppWithItsOwnNettyAndByteBuddyKeepsThemWithTheLayerAttached(String name, Path jdk)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path libs = Path.of(System.getProperty("mirrord.it.appLibs", "target/it-app-libs"));
    String nettyVersion = System.getProperty("mirrord.it.appNettyVersion");
    String byteBuddyVersion = System.getProperty("mirrord.it.appByteBuddyVersion");
    List<Path> cp = new ArrayList<>();
    cp.add(ChildJvm.testClasses());
    try (Stream<Path> jars = Files.list(libs)) {
      jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(cp::add);
    }
    assertThat(cp).hasSize(4);

    ChildJvm.Result r;
    try (FakeAgent agent = FakeAgent.start()) {
      Path session = SessionFile.write(dir, agent.port(), Map.of());
      r = ChildJvm.run(jdk, session.toString(), cp, OwnLibsApp.class, List.of(), dir);
    }

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .as(r.toString())
        .contains(
            "mirrord.layer.connected=true",
            "netty.versions={netty-buffer=" + nettyVersion + ", netty-common=" + nettyVersion + "}",
            "netty.bytebuf=4:6d697272",
            "bytebuddy.generated=made by the app's byte-buddy",
            "done=true")
        .anySatisfy(
            l -> assertThat(l).startsWith("bytebuddy.location=").endsWith("/byte-buddy-" + byteBuddyVersion + ".jar"));
    // The app's own netty may warn about sun.misc.Unsafe on JDK 24+; the layer says nothing.
    assertThat(r.stderr())
        .noneMatch(l -> l.startsWith("mirrord:"))
        .noneMatch(l -> l.contains("dev.mirrord.jvm.layer"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.mirrord.jvm.layer.testing.ChildJvm#jdks")
  void anAppOnItsOwnNettyEpollTransportHasItsListenSubscribedAndReleased(String name, Path jdk)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    List<Path> cp = ChildJvm.withAppNetty();
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      port = probe.getLocalPort();
    }

    ChildJvm.Result r;
    List<dev.mirrord.jvm.protocol.ClientMessage> received;
    try (FakeAgent agent = FakeAgent.start()) {
      Path session = SessionFile.write(dir, agent.port(), Map.of("incoming.mode", "steal"));
      r = ChildJvm.run(
          jdk, session.toString(), cp, dev.mirrord.jvm.layer.testapp.EpollServerApp.class,
          List.of(Integer.toString(port)), dir);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(5))
          .until(() -> !agent.received(dev.mirrord.jvm.protocol.Tcp.PortUnsubscribe.class).isEmpty()
              || !r.stdout().contains("done=true"));
      received = agent.received();
    }

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .as(r.toString())
        .contains(
            "epoll.available=true",
            "channel=io.netty.channel.epoll.EpollServerSocketChannel",
            "bound=" + port,
            "done=true");
    assertThat(received)
        .as("bind in native code subscribed, close released")
        .contains(
            new dev.mirrord.jvm.protocol.Tcp.PortSubscribe(port, dev.mirrord.jvm.protocol.IncomingMode.STEAL),
            new dev.mirrord.jvm.protocol.Tcp.PortUnsubscribe(port));
  }
}
