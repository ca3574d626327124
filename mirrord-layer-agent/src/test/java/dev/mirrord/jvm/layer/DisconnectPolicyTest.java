package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.LayerConfig.OnDisconnect;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DisconnectPolicyTest {
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final List<Integer> exits = new ArrayList<>();
  private boolean shuttingDown;

  private DisconnectPolicy policy(OnDisconnect mode) {
    DisconnectPolicy.Jvm jvm =
        new DisconnectPolicy.Jvm() {
          @Override
          public boolean shuttingDown() {
            return shuttingDown;
          }

          @Override
          public void exit(int code) {
            exits.add(code);
          }
        };
    return new DisconnectPolicy(
        mode, jvm, 50, Runnable::run, new PrintStream(err, true, StandardCharsets.UTF_8), LayerLog.discard());
  }

  private List<String> stderr() {
    String s = err.toString(StandardCharsets.UTF_8);
    return s.isEmpty() ? List.of() : List.of(s.split("\n"));
  }

  @Test
  void aLostConnectionEndsTheJvmWithOneLineSayingWhyAndWhatToDo() {
    DisconnectPolicy p = policy(OnDisconnect.EXIT);

    p.connectionLost("127.0.0.1:40123");
    p.connectionLost("127.0.0.1:40123");

    assertThat(exits).containsExactly(DisconnectPolicy.EXIT_CODE);
    assertThat(stderr()).singleElement().asString()
        .startsWith("mirrord: lost the connection to mirrord at 127.0.0.1:40123 (the mirrord CLI exited,"
            + " was killed or stopped answering); ending this JVM (pid " + ProcessHandle.current().pid()
            + ") with exit code 75 so that it does not run on without mirrord")
        .contains("run it again with mirrord exec, or set layer.on_disconnect=continue");
  }

  @Test
  void theClisLastErrorIsTheReasonGiven() {
    DisconnectPolicy p = policy(OnDisconnect.EXIT);
    p.cliError("the session ended: the connection to the mirrord agent was lost");

    p.connectionLost("127.0.0.1:40123");

    assertThat(stderr()).singleElement().asString()
        .startsWith("mirrord: lost the connection to mirrord at 127.0.0.1:40123 (the session ended: the"
            + " connection to the mirrord agent was lost); ending this JVM");
  }

  @Test
  void aJvmAlreadyShuttingDownStaysSilent() {
    DisconnectPolicy p = policy(OnDisconnect.EXIT);
    shuttingDown = true;

    p.connectionLost("127.0.0.1:40123");

    assertThat(exits).isEmpty();
    assertThat(stderr()).isEmpty();
  }

  @Test
  void aJvmThatBeginsItsShutdownWithinTheGraceStaysSilent() {
    DisconnectPolicy.Jvm jvm =
        new DisconnectPolicy.Jvm() {
          final long since = System.nanoTime();

          @Override
          public boolean shuttingDown() {
            return System.nanoTime() - since > 20_000_000; // System.exit called just as the CLI closed
          }

          @Override
          public void exit(int code) {
            exits.add(code);
          }
        };
    new DisconnectPolicy(OnDisconnect.EXIT, jvm, 500, Runnable::run,
        new PrintStream(err, true, StandardCharsets.UTF_8), LayerLog.discard()).connectionLost("127.0.0.1:1");

    assertThat(exits).isEmpty();
    assertThat(stderr()).isEmpty();
  }

  @Test
  void continueKeepsTheAppRunningSilently() {
    DisconnectPolicy p = policy(OnDisconnect.CONTINUE);

    p.connectionLost("127.0.0.1:40123");

    assertThat(exits).isEmpty();
    assertThat(stderr()).isEmpty();
    assertThat(p.startFailed("no connection")).isFalse();
  }

  @Test
  void aFailedStartEndsTheJvmWhenExiting() {
    DisconnectPolicy p = policy(OnDisconnect.EXIT);

    assertThat(p.startFailed("cannot connect to mirrord at 127.0.0.1:1: Connection refused")).isTrue();

    assertThat(exits).containsExactly(75);
    assertThat(stderr()).singleElement().asString()
        .startsWith("mirrord: cannot start a session with mirrord: cannot connect to mirrord at"
            + " 127.0.0.1:1: Connection refused; ending this JVM");
  }
}
