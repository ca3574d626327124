package dev.mirrord.jvm.podagent.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.sniffer.FlowKey;
import dev.mirrord.jvm.podagent.sniffer.SnifferSubscriber;
import dev.mirrord.jvm.podagent.sniffer.TcpSniffer;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /**
   * A capture runs (its packet socket and ring mapped) only while a port is mirrored: the last
   * unsubscription closes it, so that a kept agent between sessions holds no ring, and the next
   * subscription opens a new one, which starts from the first ring again. Needs root (a packet
   * socket in this JVM's namespace; no packet is needed).
   */
  @Test
  void theCaptureClosesWhenNoPortIsMirroredAndTheNextSubscriptionOpensANewOne() throws Exception {
    SnifferSubscriber a = new Quiet();
    SnifferSubscriber b = new Quiet();
    long mappedBefore = mappedSockets();
    try (IncomingTasks tasks = new IncomingTasks("s", STEAL)) {
      assertThat(tasks.existingSniffer()).isEmpty();
      tasks.mirror(18080, a);
      tasks.mirror(18081, b);
      TcpSniffer first = tasks.existingSniffer().orElseThrow();
      assertThat(mappedSockets()).as("the ring").isEqualTo(mappedBefore + 1);

      tasks.stopMirroring(18080, a);
      assertThat(tasks.existingSniffer()).as("b still mirrors 18081").containsSame(first);
      tasks.stopMirroring(18081, a); // not a's: nothing changes
      assertThat(tasks.existingSniffer()).containsSame(first);

      tasks.stopMirroringAll(b);
      assertThat(tasks.existingSniffer()).isEmpty();
      assertThat(mappedSockets()).as("no ring mapped").isEqualTo(mappedBefore);

      tasks.mirror(18080, a);
      assertThat(tasks.existingSniffer()).get().isNotSameAs(first);
      assertThat(tasks.existingSniffer().orElseThrow().ports()).containsExactly(18080);
    }
    assertThat(mappedSockets()).as("closed with the agent").isEqualTo(mappedBefore);
  }

  /** Mappings of sockets in this process: a capture's ring is one. */
  private static long mappedSockets() throws Exception {
    return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("socket:")).count();
  }

  private static final class Quiet implements SnifferSubscriber {
    @Override
    public void newConnection(long connectionId, FlowKey flow) {}

    @Override
    public void data(long connectionId, byte[] bytes) {}

    @Override
    public void closed(long connectionId, boolean reset) {}
  }
}
