package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JVM's first Netty buffer, from the default allocator as the CLI's and the agent's channels get
 * theirs, in a JVM started with given flags: what it loaded. With Netty's JFR events on (its default
 * wherever the JDK has JFR), that first buffer makes JFR read the JDK's whole event library
 * ({@code jdk.jfr.internal.TypeLibrary}, {@code MetadataRepository}); {@code
 * -Dio.netty.jfr.enabled=false} spares it (docs/PERFORMANCE.md, "JFR").
 */
public final class NettyFirstBuffer {
  private static final String MADE = "first buffer made";

  private NettyFirstBuffer() {}

  public static void main(String[] args) {
    ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(256);
    buf.writeLong(42);
    buf.release();
    System.out.println(MADE);
  }

  /**
   * Runs this class's {@code main} in this JDK's {@code java} with {@code jvmFlags} and this JVM's
   * class path; checks that it made its buffer, exited with 0 and warned about no option; returns
   * the JFR event library's classes it loaded (none, with Netty's JFR events off).
   */
  public static List<String> jfrLibraryLoaded(List<String> jvmFlags) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.addAll(
        List.of(
            "-Xlog:class+load=info:stdout",
            "-cp",
            System.getProperty("java.class.path"),
            NettyFirstBuffer.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", cmd, log).isZero();
    assertThat(log)
        .contains(MADE, "io.netty.buffer.AdaptivePoolingAllocator ")
        .doesNotContain("[warning]", "Unrecognized VM option");
    // Netty's FlightRecorder.isAvailable() loads a few jdk.jfr classes either way; the library is what the flag spares
    return log.lines()
        .filter(l -> l.contains(" jdk.jfr.internal.TypeLibrary") || l.contains(" jdk.jfr.internal.MetadataRepository"))
        .toList();
  }
}
