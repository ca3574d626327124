package dev.mirrord.jvm.podagent.env;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetEnvTest {

  private static Map<String, String> parse(String environ) {
    return dev.mirrord.jvm.protocol.target.TargetFiles.parseEnviron(environ.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void parsesNulSeparatedEntriesInOrder() {
    assertThat(parse("A=1\0B=two\0PATH=/usr/bin:/bin\0"))
        .containsExactly(entry("A", "1"), entry("B", "two"), entry("PATH", "/usr/bin:/bin"));
  }

  @Test
  void keepsEverythingAfterTheFirstEqualsSign() {
    assertThat(parse("JAVA_OPTS=-Da=b -Dc==d\0X==\0"))
        .containsExactly(entry("JAVA_OPTS", "-Da=b -Dc==d"), entry("X", "="));
  }

  @Test
  void keepsEmptyValues() {
    assertThat(parse("EMPTY=\0NEXT=x\0")).containsExactly(entry("EMPTY", ""), entry("NEXT", "x"));
  }

  @Test
  void acceptsAMissingTrailingNul() {
    assertThat(parse("A=1\0LAST=end")).containsExactly(entry("A", "1"), entry("LAST", "end"));
  }

  @Test
  void skipsEntriesWithoutKeyOrEqualsAndEmptyEntries() {
    assertThat(parse("\0NOEQUALS\0=novalue\0\0OK=1\0\0")).containsExactly(entry("OK", "1"));
  }

  @Test
  void firstOccurrenceOfARepeatedKeyWinsLikeGetenv() {
    assertThat(parse("K=first\0K=second\0")).containsExactly(entry("K", "first"));
  }

  @Test
  void emptyEnvironIsEmptyMap() {
    assertThat(dev.mirrord.jvm.protocol.target.TargetFiles.parseEnviron(new byte[0])).isEmpty();
    assertThat(parse("\0")).isEmpty();
  }

  @Test
  void decodesUtf8AndReplacesMalformedBytes() {
    byte[] raw = {'N', '=', (byte) 0xc3, (byte) 0xa9, 0, 'B', '=', (byte) 0xff, 0};
    assertThat(dev.mirrord.jvm.protocol.target.TargetFiles.parseEnviron(raw)).containsExactly(entry("N", "é"), entry("B", "\uFFFD"));
  }

  @Test
  void readsTheTargetsEnvironFile(@TempDir Path proc) throws IOException {
    Files.createDirectories(proc.resolve("42"));
    Files.write(proc.resolve("42/environ"), "HOME=/root\0LANG=C.UTF-8\0".getBytes());
    RemoteResult<Map<String, String>> env = TargetEnv.read(TargetProcess.under(proc, 42));
    assertThat(env.value()).containsExactly(entry("HOME", "/root"), entry("LANG", "C.UTF-8"));
  }

  @Test
  void missingEnvironIsNotFound(@TempDir Path proc) {
    RemoteResult<Map<String, String>> env = TargetEnv.read(TargetProcess.under(proc, 42));
    assertThat(env).isInstanceOf(RemoteResult.Err.class);
    assertThat(((RemoteResult.Err<?>) env).error()).isInstanceOf(ResponseError.NotFound.class);
  }

  @Test
  void otherIoFailuresAreRemoteIo(@TempDir Path proc) throws IOException {
    Files.createDirectories(proc.resolve("42/environ")); // a directory cannot be read as a file
    RemoteResult<Map<String, String>> env = TargetEnv.read(TargetProcess.under(proc, 42));
    assertThat(((RemoteResult.Err<?>) env).error()).isInstanceOf(ResponseError.RemoteIo.class);
  }

  @Test
  void readsTheRealEnvironOfThisJvm() {
    TargetProcess self = TargetProcess.of((int) ProcessHandle.current().pid());
    assertThat(TargetEnv.read(self).value()).containsEntry("PATH", System.getenv("PATH"));
  }
}
