package dev.mirrord.jvm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.jvm.NettyFirstBuffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The CLI's JVM flags, as {@code bin/mirrord} starts the CLI with them (its {@code cli_opts} default), taken by
 * this JDK: a JVM with them starts without a warning, and Netty's first buffer loads no JFR event library (the
 * agent's options file is checked the same way in {@code AgentJvmOptionsTest}).
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
    assertThat(flags).contains("-Dio.netty.jfr.enabled=false", "-XX:+UseSerialGC", "-XX:CompileThresholdScaling=4",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=CompileThresholdScaling,io.netty.*::*,0.25");

    assertThat(NettyFirstBuffer.jfrLibraryLoaded(flags)).isEmpty();
  }
}
