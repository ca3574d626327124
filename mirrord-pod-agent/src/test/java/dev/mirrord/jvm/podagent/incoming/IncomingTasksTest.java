package dev.mirrord.jvm.podagent.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class IncomingTasksTest {
  private static final IncomingTasks.StealSettings STEAL =
      new IncomingTasks.StealSettings(true, Duration.ofSeconds(3), 0);

  @Test
  void theCaptureWarmUpRunsOncePerAgent() throws Exception {
    try (IncomingTasks tasks = new IncomingTasks("s", STEAL)) {
      assertThat(tasks.captureWarmUpStarted()).isFalse();
      tasks.warmUpCapture();
      tasks.warmUpCapture();
      assertThat(tasks.captureWarmUpStarted()).isTrue();
    }
  }

  @Test
  void anAgentForASessionThatDoesNotMirrorNeverWarmsItsCaptureUp() throws Exception {
    try (IncomingTasks tasks = new IncomingTasks("s", STEAL, false)) {
      tasks.warmUpCapture();
      assertThat(tasks.captureWarmUpStarted()).isFalse();
      assertThat(Thread.getAllStackTraces().keySet())
          .noneMatch(t -> t.getName().equals("mirrord-agent-warm-up"));
    }
  }
}
