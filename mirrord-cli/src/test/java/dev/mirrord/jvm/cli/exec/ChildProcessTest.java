package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  /** A JVM of the command, for {@link #anAbortKillsTheSessionsJvmsAndStopsTheRestWithSigterm}. */
  public static final class Sleeper {
    public static void main(String[] args) throws Exception {
      java.nio.file.Path dir = java.nio.file.Path.of(args[0]);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> touch(dir.resolve("hook ran"))));
      touch(dir.resolve("started"));
      Thread.sleep(60_000);
    }

    private static void touch(java.nio.file.Path file) {
      try {
        java.nio.file.Files.writeString(file, "");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  @Test
  void anAbortKillsTheSessionsJvmsAndStopsTheRestWithSigterm(@TempDir Path dir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "trap 'exit 42' TERM; '" + java + "' -Xshare:auto -cp '" + System.getProperty("java.class.path") + "' '"
        + Sleeper.class.getName() + "' '" + dir + "' & wait";
    var plan = new JvmLauncher.LaunchPlan(List.of("bash", "-c", script),
        Map.of("PATH", System.getenv("PATH"), "JAVA_TOOL_OPTIONS", "-Dmirrord.test.session=" + dir.getFileName()));
    try (ChildProcess child = ChildProcess.start(plan, Duration.ofSeconds(5))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("started")));
      List<ProcessHandle> jvm = ProcessHandle.of(child.pid()).orElseThrow().children().toList();
      assertThat(jvm).hasSize(1);

      child.abortBeforeAgent();

      assertThat(child.waitFor(false)).as("bash, not a JVM: SIGTERM, its trap ran").isEqualTo(42);
      await().atMost(Duration.ofSeconds(5)).until(() -> !jvm.get(0).isAlive());
      assertThat(dir.resolve("hook ran")).as("the JVM was killed: no shutdown of its own").doesNotExist();
    }
  }

  @Test
  void aJvmWithTheLayerIsOneWhoseMapsNameLibjvmAndWhoseEnvironmentHasTheSessionsEntry(@TempDir Path proc)
      throws Exception {
    String options = "-javaagent:/x/mirrord-layer-agent.jar=/tmp/mirrord-1/session.properties";
    String entry = "JAVA_TOOL_OPTIONS=" + options;
    Path jvm = fakeProc(proc.resolve("1"), "HOME=/root\0" + entry + "\0PATH=/bin", "/usr/lib/jvm/j/lib/server/libjvm.so");
    Path shell = fakeProc(proc.resolve("2"), entry, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    Path otherSession = fakeProc(proc.resolve("3"), entry + " -Dmore", "/usr/lib/jvm/j/lib/server/libjvm.so");
    Path last = fakeProc(proc.resolve("4"), "A=b\0" + entry, "/usr/lib/jvm/j/lib/server/libjvm.so");

    assertThat(ChildProcess.jvmWithTheLayer(jvm, options)).isTrue();
    assertThat(ChildProcess.jvmWithTheLayer(last, options)).isTrue();
    assertThat(ChildProcess.jvmWithTheLayer(shell, options)).as("not a JVM").isFalse();
    assertThat(ChildProcess.jvmWithTheLayer(otherSession, options)).as("another entry").isFalse();
    assertThat(ChildProcess.jvmWithTheLayer(jvm, null)).as("no layer in the plan").isFalse();
    assertThat(ChildProcess.jvmWithTheLayer(proc.resolve("5"), options)).as("ended").isFalse();
  }

  private static Path fakeProc(Path dir, String environ, String lib) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("environ"), environ.replace("\\0", "\0"));
    Files.writeString(dir.resolve("maps"),
        "7f0000000000-7f0000001000 r-xp 00000000 08:01 1234 /usr/lib/locale/C.utf8/LC_CTYPE\n"
            + "7f0000001000-7f0000002000 r-xp 00000000 08:01 1235 " + lib + "\n");
    return dir;
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
