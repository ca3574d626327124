package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class JvmShutdownTest {

  /** False while the JVM runs (and the probe hook leaves nothing behind); true inside its shutdown. */
  @Test
  void begunIsTrueOnlyOnceTheShutdownHasBegun() throws Exception {
    assertThat(JvmShutdown.begun()).isFalse();
    assertThat(JvmShutdown.begun()).isFalse();

    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), Child.class.getName())
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(3);
    assertThat(out).isEqualTo("running false\nin a hook true\n");
  }

  /** Prints {@link JvmShutdown#begun()} while it runs and from a shutdown hook, then exits with 3. */
  public static final class Child {
    public static void main(String[] args) {
      System.out.print("running " + JvmShutdown.begun() + "\n");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.print("in a hook " + JvmShutdown.begun() + "\n")));
      System.exit(3);
    }
  }
}
