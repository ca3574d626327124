package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildProcessTest {

  private static JvmLauncher.LaunchPlan bash(String script) {
    return new JvmLauncher.LaunchPlan(List.of("bash", "-c", script), Map.of("PATH", System.getenv("PATH")));
  }

  @Test
  void forwardsSigtermToTheChildAndReturnsItsExitCode() throws Exception {
    ChildProcess child =
        ChildProcess.start(bash("trap 'exit 42' TERM; while :; do sleep 0.05; done"), Duration.ofSeconds(1));
    try {
      CompletableFuture<Integer> code =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return child.waitFor(true);
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      await().atMost(Duration.ofSeconds(10)).until(() -> child.forwarding().contains("TERM"));

      // SIGTERM to this JVM, as if `kill <mirrord pid>`: our handler must pass it to the child
      new ProcessBuilder("kill", "-TERM", Long.toString(ProcessHandle.current().pid())).start().waitFor();

      assertThat(code.get(10, TimeUnit.SECONDS)).isEqualTo(42);
      assertThat(child.forwarding()).isEmpty(); // handlers restored
    } finally {
      child.close();
    }
  }

  @Test
  void childKilledBySignalGives128PlusTheSignal() throws Exception {
    try (ChildProcess child = ChildProcess.start(bash("kill -KILL $$"), Duration.ofSeconds(1))) {
      assertThat(child.waitFor(false)).isEqualTo(128 + 9);
    }
  }

  @Test
  void closeStopsTheWholeTreeOfALiveChild() throws Exception {
    ChildProcess child = ChildProcess.start(bash("sleep 60 & sleep 61"), Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(child.pid()).orElseThrow().descendants().count() >= 2);
    List<ProcessHandle> tree = ProcessHandle.of(child.pid()).orElseThrow().descendants().toList();

    child.close();

    assertThat(ProcessHandle.of(child.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    await().atMost(Duration.ofSeconds(5)).until(() -> tree.stream().noneMatch(ProcessHandle::isAlive));
  }

  @Test
  void unknownCommandIsExit127() {
    var plan = new JvmLauncher.LaunchPlan(List.of("no-such-command-xyz"), Map.of("PATH", "/usr/bin:/bin"));
    assertThatThrownBy(() -> ChildProcess.start(plan, Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.COMMAND_NOT_FOUND))
        .hasMessage("cannot run 'no-such-command-xyz': command not found; check the name and PATH");
  }
}
