package dev.mirrord.jvm.cli.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link StartPriority} on a fake {@code /proc}: which autogroup it writes, and which it never does. */
class StartPriorityTest {
  @TempDir Path proc;

  private Path autogroup(String pid, String line) throws IOException {
    Files.createDirectories(proc.resolve(pid));
    return Files.writeString(proc.resolve(pid + "/autogroup"), line + "\n");
  }

  @Test
  void anAgentInASessionOfItsOwnStartsAtNice10AndGetsNice0Back() throws IOException {
    autogroup("self", "/autogroup-7 nice 0");
    Path agent = autogroup("42", "/autogroup-9 nice 0");
    StartPriority p = new StartPriority(proc);

    assertThat(p.lower(42)).isTrue();
    assertThat(Files.readString(agent)).isEqualTo("10");
    p.restore(42);
    assertThat(Files.readString(agent)).isEqualTo("0");
  }

  @Test
  void anAgentStillInTheClisGroupIsLeftAloneSoThatTheCliAndTheAppAreNeverSlowed() throws IOException {
    Path own = autogroup("self", "/autogroup-7 nice 0");
    Path agent = autogroup("42", "/autogroup-7 nice 0");
    StartPriority p = new StartPriority(proc);

    long t0 = System.nanoTime();
    assertThat(p.lower(42)).isFalse();
    assertThat((System.nanoTime() - t0) / 1_000_000).as("bounded wait for its setsid").isLessThan(2_000);
    assertThat(Files.readString(agent)).isEqualTo("/autogroup-7 nice 0\n");
    assertThat(Files.readString(own)).isEqualTo("/autogroup-7 nice 0\n");
  }

  @Test
  void withoutAutogroupsNothingHappens() {
    StartPriority p = new StartPriority(proc);
    assertThat(p.lower(42)).isFalse();
    p.restore(42); // no file, no failure
    assertThat(proc.resolve("42")).doesNotExist();
  }
}
