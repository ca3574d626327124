package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.session.ClientSession;
import dev.mirrord.jvm.podagent.session.SessionContext;
import dev.mirrord.jvm.podagent.session.SessionListener;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentLifecycleTest {

  private static ClientSession session() {
    return new ClientSession(
        new SessionContext(
            "t",
            "dev",
            TargetProcess.of((int) ProcessHandle.current().pid()),
            Runnable::run,
            SessionListener.NONE));
  }

  @Test
  void cleanupRunsEachActionOnceInReverseOrderEvenWhenOneFails() {
    AgentLifecycle lifecycle = new AgentLifecycle();
    List<String> ran = new ArrayList<>();
    lifecycle.onCleanup("first", () -> ran.add("first"));
    lifecycle.onCleanup(
        "failing",
        () -> {
          ran.add("failing");
          throw new IllegalStateException("boom");
        });
    lifecycle.onCleanup("last", () -> ran.add("last"));

    lifecycle.cleanUp();
    lifecycle.cleanUp();

    assertThat(ran).containsExactly("last", "failing", "first");
  }

  @Test
  void actionsRegisteredAfterACleanupRunOnTheNextOne() {
    AgentLifecycle lifecycle = new AgentLifecycle();
    List<String> ran = new ArrayList<>();
    lifecycle.onCleanup("a", () -> ran.add("a"));
    lifecycle.cleanUp();
    lifecycle.onCleanup("b", () -> ran.add("b"));
    lifecycle.cleanUp();
    assertThat(ran).containsExactly("a", "b");
  }

  @Test
  void stdinEofRequestsExit() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.watchStdin(new ByteArrayInputStream("ignored input".getBytes()));
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5))).startsWith("stdin closed");
  }

  @Test
  void stdinStillOpenKeepsTheAgentRunning() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    try (PipedOutputStream cli = new PipedOutputStream()) {
      lifecycle.watchStdin(new PipedInputStream(cli));
      assertThat(lifecycle.awaitExit(Duration.ofMillis(200))).isNull();
      cli.write('x');
    }
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5))).isNotNull();
  }

  @Test
  void acceptTimeoutFiresWhenNobodyAuthenticated() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.startAcceptTimer(Duration.ofMillis(100));
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5)))
        .startsWith("no client authenticated within");
  }

  @Test
  void acceptTimeoutIsCancelledByTheFirstAuthenticatedClient() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.onAuthenticated(session());
    lifecycle.startAcceptTimer(Duration.ofMillis(50));
    assertThat(lifecycle.awaitExit(Duration.ofMillis(400))).isNull();
  }

  @Test
  void onlyTheFirstAuthenticatedClientsDisconnectEndsTheAgent() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    ClientSession cli = session();
    ClientSession other = session();
    ClientSession neverAuthenticated = session();
    lifecycle.onAuthenticated(cli);
    lifecycle.onAuthenticated(other);
    lifecycle.onClosed(neverAuthenticated);
    lifecycle.onClosed(other);
    assertThat(lifecycle.exitRequested()).isFalse();
    lifecycle.onClosed(cli);
    assertThat(lifecycle.awaitExit(Duration.ZERO)).startsWith("the CLI's connection closed");
  }

  @Test
  void firstExitReasonWins() throws IOException, InterruptedException {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.requestExit("one");
    lifecycle.requestExit("two");
    assertThat(lifecycle.awaitExit()).isEqualTo("one");
  }

  @Test
  void withAnIdleTimeoutTheLastClientsDisconnectStartsTheCountdown() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.setIdleTimeout(Duration.ofMillis(300));
    ClientSession cli = session();
    lifecycle.onAuthenticated(cli);
    lifecycle.onClosed(cli);
    assertThat(lifecycle.awaitExit(Duration.ofMillis(100))).isNull();
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5))).startsWith("no client connected for");
  }

  @Test
  void aClientAuthenticatingWithinTheIdleTimeoutKeepsTheAgent() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.setIdleTimeout(Duration.ofMillis(300));
    ClientSession first = session();
    ClientSession second = session();
    lifecycle.onAuthenticated(first);
    lifecycle.onClosed(first);
    lifecycle.onAuthenticated(second);
    assertThat(lifecycle.awaitExit(Duration.ofMillis(800))).isNull();
    lifecycle.onClosed(second);
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5))).startsWith("no client connected for");
  }

  @Test
  void unauthenticatedConnectionsNeverStartTheIdleCountdown() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.setIdleTimeout(Duration.ofMillis(100));
    lifecycle.onClosed(session());
    assertThat(lifecycle.awaitExit(Duration.ofMillis(400))).isNull();
  }

  @Test
  void aKeptAgentWithoutClientsLeavesWhenItsTargetExits() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.setIdleTimeout(Duration.ofSeconds(60));
    java.util.concurrent.CompletableFuture<Void> targetExit = new java.util.concurrent.CompletableFuture<>();
    lifecycle.exitWhenTargetExits(targetExit, "the target (pid 7)");
    assertThat(lifecycle.awaitExit(Duration.ofMillis(200))).isNull();
    targetExit.complete(null);
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5))).isEqualTo("the target (pid 7) has exited");
  }

  /** A session that runs on when its target exits is not cut; the agent leaves with its last client. */
  @Test
  void aKeptAgentsSessionRunsOnAfterItsTargetExitsAndTheAgentLeavesWithItsLastClient() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    lifecycle.setIdleTimeout(Duration.ofSeconds(60));
    java.util.concurrent.CompletableFuture<Void> targetExit = new java.util.concurrent.CompletableFuture<>();
    lifecycle.exitWhenTargetExits(targetExit, "the target (pid 7)");
    ClientSession first = session();
    ClientSession second = session();
    lifecycle.onAuthenticated(first);
    lifecycle.onAuthenticated(second);
    targetExit.complete(null);
    lifecycle.onClosed(first);
    assertThat(lifecycle.awaitExit(Duration.ofMillis(300))).isNull();
    lifecycle.onClosed(second);
    assertThat(lifecycle.awaitExit(Duration.ofSeconds(5)))
        .startsWith("last client gone (").endsWith(") and the target (pid 7) has exited");
  }

  /** An agent per run (no idle timeout) ends with its CLI, whatever its target does. */
  @Test
  void anAgentPerRunIgnoresItsTargetsExit() throws Exception {
    AgentLifecycle lifecycle = new AgentLifecycle();
    java.util.concurrent.CompletableFuture<Void> targetExit = new java.util.concurrent.CompletableFuture<>();
    lifecycle.exitWhenTargetExits(targetExit, "the target (pid 7)");
    targetExit.complete(null);
    assertThat(lifecycle.awaitExit(Duration.ofMillis(300))).isNull();
  }
}
