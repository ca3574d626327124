package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.internal.MacAddressUtil;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link NettyDefaults}: what it sets, in a form Netty takes, and that an explicit {@code -D} wins. */
class NettyDefaultsTest {
  private Properties saved;

  @BeforeEach
  void save() {
    saved = (Properties) System.getProperties().clone();
    System.clearProperty(NettyDefaults.MACHINE_ID);
    System.clearProperty(NettyDefaults.PROCESS_ID);
    System.clearProperty(NettyDefaults.SELECTOR_PROVIDER);
  }

  @AfterEach
  void restore() {
    System.setProperties(saved);
  }

  @Test
  void channelIdsGetARandomMachineIdNettyParsesAndThisProcesssPid() {
    NettyDefaults.apply();
    String first = System.getProperty(NettyDefaults.MACHINE_ID);
    assertThat(first).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
    assertThat(MacAddressUtil.parseMAC(first)).hasSize(8);
    assertThat(System.getProperty(NettyDefaults.PROCESS_ID)).isEqualTo(Long.toString(ProcessHandle.current().pid()));

    System.clearProperty(NettyDefaults.MACHINE_ID);
    NettyDefaults.apply();
    assertThat(System.getProperty(NettyDefaults.MACHINE_ID)).as("random, not fixed").isNotEqualTo(first);
  }

  /** The machine id the CLI, the agent and the layer give their Netty is one Netty parses, and random. */
  @Test
  void theMachineIdIsEightRandomBytesNettyParses() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String id = NettyDefaults.randomMachineId(random);
      assertThat(id).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
      assertThat(MacAddressUtil.parseMAC(id)).hasSize(8);
      ids.add(id);
    }
    assertThat(ids).hasSize(1000);
  }

  @Test
  void explicitValuesWin() {
    System.setProperty(NettyDefaults.MACHINE_ID, "00:11:22:33:44:55");
    System.setProperty(NettyDefaults.PROCESS_ID, "7");
    NettyDefaults.apply();
    assertThat(System.getProperty(NettyDefaults.MACHINE_ID)).isEqualTo("00:11:22:33:44:55");
    assertThat(System.getProperty(NettyDefaults.PROCESS_ID)).isEqualTo("7");
  }

  /** On Linux the JDK's own provider is named (no ServiceLoader over the class path), and it is the one it picks. */
  @Test
  void onLinuxTheJdksEpollSelectorProviderIsNamedUnlessOneWasGiven() throws Exception {
    NettyDefaults.selectorProvider("Mac OS X");
    assertThat(System.getProperty(NettyDefaults.SELECTOR_PROVIDER)).as("elsewhere, the JDK's choice").isNull();

    NettyDefaults.selectorProvider("Linux");
    assertThat(System.getProperty(NettyDefaults.SELECTOR_PROVIDER)).isEqualTo(NettyDefaults.LINUX_SELECTOR_PROVIDER);
    if (System.getProperty("os.name").startsWith("Linux")) {
      assertThat(jdksOwnSelectorProvider()).as("the JDK's pick when none is named")
          .isEqualTo(NettyDefaults.LINUX_SELECTOR_PROVIDER);
    }

    System.setProperty(NettyDefaults.SELECTOR_PROVIDER, "com.example.Provider");
    NettyDefaults.selectorProvider("Linux");
    assertThat(System.getProperty(NettyDefaults.SELECTOR_PROVIDER)).isEqualTo("com.example.Provider");
  }

  /** {@code SelectorProvider.provider()}'s class in a fresh JVM that names none (this one may have named one). */
  private static String jdksOwnSelectorProvider() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("selector");
    try {
      java.nio.file.Path source = dir.resolve("Pick.java");
      java.nio.file.Files.writeString(source, "public class Pick { public static void main(String[] a) {"
          + " System.out.print(java.nio.channels.spi.SelectorProvider.provider().getClass().getName()); } }");
      Process p = new ProcessBuilder(
              java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(), source.toString())
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(p.waitFor()).isZero();
      return out;
    } finally {
      try (var files = java.nio.file.Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}
