package dev.mirrord.jvm.podagent.sniffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real capture, in network namespaces this test creates: a child JVM runs inside the "pod"
 * namespace ({@code ip netns exec}), where it serves a port and mirrors it with {@link
 * AfPacketSource} + {@link TcpSniffer}; another child sends random streams. A child JVM rather than
 * {@code setns} on a test thread keeps this JVM's own sockets out of the lab and matches
 * production, where the agent is started under {@code nsenter}.
 */
@EnabledIf("dev.mirrord.jvm.podagent.sniffer.Privileges#canManageNetns")
class AfPacketSourceTest {
  private static final int PORT = 8080;

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "ring loopback 127.0.0.1",
        "ring loopback ::1",
        "ring veth 198.18.0.1",
        "recvfrom loopback 127.0.0.1",
        "recvfrom veth 198.18.0.1"
      })
  void capturedStreamsEqualWhatWasSent(String setup) throws Exception {
    String[] parts = setup.split(" ");
    Result result = capture(parts[0], parts[1].equals("veth"), parts[2], 3, 200 * 1024, 0);

    assertThat(result.truncated).as("truncated").isZero();
    System.err.println(setup + ": " + result.stats);
  }

  @Test
  void theDefaultRingIs64MibAndItsSizeCanBeSet() {
    assertThat(RxRing.blockCount(null) * (long) RxRing.BLOCK_SIZE).isEqualTo(64L << 20);
    assertThat(RxRing.blockCount("8") * (long) RxRing.BLOCK_SIZE).isEqualTo(8L << 20);
    assertThat(RxRing.blockCount(" 1 ")).isEqualTo(4);
    assertThat(RxRing.blockCount("0")).as("out of range: the default").isEqualTo(256);
    assertThat(RxRing.blockCount("lots")).isEqualTo(256);
  }

  /**
   * 4 connections of 32 MiB each, sent over about 3 s: the reader walks the ring round several
   * times (blocks are handed over full, or after 10 ms), and the kernel may not drop a packet on
   * the way, since one lost segment would end a mirrored stream.
   */
  @Test
  void aLongStreamWrapsTheRingSeveralTimesWithoutLosingAByte() throws Exception {
    Result result = capture("ring", false, "127.0.0.1", 4, 32 << 20, 6);

    assertThat(result.blocks)
        .as("ring blocks read (%d a lap)", RxRing.BLOCK_COUNT)
        .isGreaterThan(3L * RxRing.BLOCK_COUNT);
    assertThat(result.dropped).as("dropped by the kernel").isZero();
    System.err.println("long stream: " + result.stats);
  }

  /**
   * 16 MiB as fast as loopback and the pod's server go: blocks are handed over full rather than by
   * the 10 ms timeout, and 64 KiB super-packets fill them unevenly. A quarter of the ring, so that
   * a reader slowed down by a busy machine still keeps up.
   */
  @Test
  void theRingCarriesAnUnpacedBurstWithoutLosingAByte() throws Exception {
    Result result = capture("ring", false, "127.0.0.1", 4, 4 << 20, 0);

    assertThat(result.dropped).as("dropped by the kernel").isZero();
    System.err.println("burst: " + result.stats);
  }

  /**
   * In this JVM's own namespace, capturing nothing (no port is subscribed, so no traffic is
   * involved): a read returns after its timeout, so the reading thread notices a stop request.
   */
  @Test
  void aRingReadReturnsAfterItsTimeoutAndTheClosedSourceRefusesReads() throws Exception {
    AfPacketSource source = AfPacketSource.open();
    try {
      assertThat(source.usesRing()).isTrue();
      long start = System.nanoTime();
      assertThat(source.next(200)).isNull();
      long waitedMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(waitedMillis).isBetween(150L, 2_000L);
      assertThat(source.next(0)).isNull();
      assertThat(source.stats().dropped()).isZero();
    } finally {
      source.close();
    }
    assertThatThrownBy(() -> source.next(10)).isInstanceOf(IOException.class);
    source.close(); // twice is harmless
  }

  private record Result(String stats, long dropped, long truncated, long blocks) {}

  /**
   * Runs the capture child ({@code mode}: ring or recvfrom) and the sender, and asserts that the
   * pod's server and the capture both got exactly what was sent.
   */
  private static Result capture(
      String mode, boolean veth, String target, int count, int size, int pauseMillis)
      throws Exception {
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
              // The ring these streams were sized for (the default; set here so that the test keeps testing it)
              List.of("-D" + RxRing.RING_MIB_PROPERTY + "=64"),
              SnifferProbe.class,
              "capture",
              String.valueOf(PORT),
              String.valueOf(count),
              "120",
              mode);
      assertThat(capture.await("SOURCE ", 30)).as("the source in use").isEqualTo("SOURCE " + mode);
      capture.await("READY", 30);

      NetnsLab.Child sender =
          lab.startJava(
              client,
              SnifferProbe.class,
              "send",
              target,
              String.valueOf(PORT),
              String.valueOf(seed),
              String.valueOf(count),
              String.valueOf(size),
              String.valueOf(pauseMillis));
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        expected.add(size + " " + SnifferProbe.sha256(SnifferProbe.payload(seed, i, size)));
        sender.await("SENT ", 120);
      }

      List<String> served = new ArrayList<>();
      List<String> captured = new ArrayList<>();
      String stats = capture.await("STATS ", 150);
      capture.await("DONE", 5);
      for (String line : capture.seen) {
        if (line.startsWith("SERVED ")) {
          served.add(line.substring("SERVED ".length()));
        } else if (line.startsWith("CAPTURED ")) {
          String[] fields = line.split(" ");
          assertThat(fields[4]).as("reset flag of %s (%s)", line, stats).isEqualTo("false");
          captured.add(fields[2] + " " + fields[3]);
        }
      }
      assertThat(served)
          .as("what the pod's server got")
          .containsExactlyInAnyOrderElementsOf(expected);
      assertThat(captured)
          .as("what the capture rebuilt (%s)", stats)
          .containsExactlyInAnyOrderElementsOf(expected);

      String[] counters = stats.split(" ");
      long received = Long.parseLong(counters[1]);
      assertThat(received).as("PACKET_STATISTICS received").isPositive();
      long blocks = Long.parseLong(counters[5]);
      if (mode.equals("ring")) {
        assertThat(blocks).as("ring blocks read").isPositive();
      } else {
        assertThat(blocks).as("ring blocks without a ring").isZero();
      }
      return new Result(
          stats
              + " "
              + capture.seen.stream().filter(l -> l.startsWith("COUNTERS")).findFirst().orElse(""),
          Long.parseLong(counters[2]),
          Long.parseLong(counters[3]),
          blocks);
    }
  }
}
