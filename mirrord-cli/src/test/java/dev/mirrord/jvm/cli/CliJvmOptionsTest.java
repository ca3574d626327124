package dev.mirrord.jvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CLI's JVM flags, as {@code bin/mirrord} starts the CLI with them (its {@code cli_opts} default), taken by
 * this JDK: a JVM with them starts, and Netty's first buffer does not load JFR's event library (the agent's
 * options file pins the same in {@code AgentJvmOptionsTest}).
 */
class CliJvmOptionsTest {
  private static final Pattern CLI_OPTS = Pattern.compile("cli_opts <<<\"\\$\\{MIRRORD_CLI_JAVA_OPTS:-([^}]*)}\"");

  @Test
  void binMirrordsCliFlagsStartThisJdkAndNettysFirstBufferLoadsNoJfrEventLibrary()
      throws IOException, InterruptedException {
    String script = Files.readString(Path.of(System.getProperty("user.dir")).resolveSibling("bin").resolve("mirrord"));
    Matcher m = CLI_OPTS.matcher(script);
    assertThat(m.find()).as("bin/mirrord's cli_opts line").isTrue();
    List<String> flags = Arrays.asList(m.group(1).strip().split("\\s+"));
    assertThat(flags).contains("-Dio.netty.jfr.enabled=false", "-XX:+UseSerialGC");

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(flags);
    cmd.addAll(
        List.of(
            "-Xlog:class+load=info:stdout", "-cp", System.getProperty("java.class.path"), FirstBuffer.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", cmd, log).isZero();
    assertThat(log).contains("first buffer made").doesNotContain("[warning]", "Unrecognized VM option");
    assertThat(log.lines().filter(l -> l.contains(" jdk.jfr.internal.TypeLibrary")
        || l.contains(" jdk.jfr.internal.MetadataRepository"))).isEmpty();
  }

  /** A JVM's first Netty buffer, from the default allocator as the CLI's channels get theirs. */
  static final class FirstBuffer {
    public static void main(String[] args) {
      io.netty.buffer.ByteBuf buf = io.netty.buffer.ByteBufAllocator.DEFAULT.directBuffer(256);
      buf.writeLong(42);
      buf.release();
      System.out.println("first buffer made");
    }
  }
}
