package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real capture, in network namespaces this test creates: a child JVM runs inside the "pod"
 * namespace ({@code ip netns exec}), where it serves a port and mirrors it with {@link
 * AfPacketSource} + {@link TcpSniffer}; another child sends three 200 KiB random streams. A child
 * JVM rather than {@code setns} on a test thread keeps this JVM's own sockets out of the lab and
 * matches production, where the agent is started under {@code nsenter}.
 */
@EnabledIf("dev.mirrord.jvm.podagent.sniffer.Privileges#canManageNetns")
class AfPacketSourceTest {
  private static final int PORT = 8080;
  private static final int CONNECTIONS = 3;
  private static final int SIZE = 200 * 1024;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"loopback 127.0.0.1", "loopback ::1", "veth 198.18.0.1"})
  void capturedStreamsEqualWhatWasSent(String setup) throws Exception {
    String[] parts = setup.split(" ");
    boolean veth = parts[0].equals("veth");
    String target = parts[1];
    long seed = System.nanoTime();
    try (NetnsLab lab = new NetnsLab()) {
      String pod = lab.addNamespace("p");
      String client = pod;
      if (veth) {
        client = lab.addNamespace("c");
        lab.connect(pod, "198.18.0.1/24", client, "198.18.0.2/24");
      }
      NetnsLab.Child capture =
          lab.startJava(
              pod,
              SnifferProbe.class,
              "capture",
              String.valueOf(PORT),
              String.valueOf(CONNECTIONS),
              "60");
      capture.await("READY", 30);

      NetnsLab.Child sender =
          lab.startJava(
              client,
              SnifferProbe.class,
              "send",
              target,
              String.valueOf(PORT),
              String.valueOf(seed),
              String.valueOf(CONNECTIONS),
              String.valueOf(SIZE));
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        expected.add(SIZE + " " + SnifferProbe.sha256(SnifferProbe.payload(seed, i, SIZE)));
        sender.await("SENT ", 60);
      }

      List<String> served = new ArrayList<>();
      List<String> captured = new ArrayList<>();
      String stats = capture.await("STATS ", 90);
      capture.await("DONE", 5);
      for (String line : capture.seen) {
        if (line.startsWith("SERVED ")) {
          served.add(line.substring("SERVED ".length()));
        } else if (line.startsWith("CAPTURED ")) {
          String[] fields = line.split(" ");
          assertThat(fields[4]).as("reset flag of %s", line).isEqualTo("false");
          captured.add(fields[2] + " " + fields[3]);
        }
      }
      assertThat(served)
          .as("what the pod's server got")
          .containsExactlyInAnyOrderElementsOf(expected);
      assertThat(captured)
          .as("what the capture rebuilt")
          .containsExactlyInAnyOrderElementsOf(expected);

      String[] counters = stats.split(" ");
      long received = Long.parseLong(counters[1]);
      assertThat(received).as("PACKET_STATISTICS received").isPositive();
      assertThat(Long.parseLong(counters[3])).as("truncated").isZero();
      System.err.println(
          setup
              + ": "
              + stats
              + " "
              + capture.seen.stream().filter(l -> l.startsWith("COUNTERS")).findFirst().orElse(""));
    }
  }
}
