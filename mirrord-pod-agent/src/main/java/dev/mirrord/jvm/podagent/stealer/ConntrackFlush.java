package dev.mirrord.jvm.podagent.stealer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes connections established before a steal reconnect into it: the nat table only sees new
 * connections, so keep-alive clients would stay on the target's server. Deleting their conntrack
 * entries makes the next packet of each such flow look new; it is then redirected to the agent,
 * which has no such connection and resets it, and the client reconnects, into the redirect. IPv4
 * and IPv6 alike: {@code conntrack} without {@code -f} matches entries of both families.
 */
public final class ConntrackFlush implements TcpStealer.FlushConnections {
  private static final Logger logger = LoggerFactory.getLogger(ConntrackFlush.class);

  /**
   * When the target's server is slow to answer a request that was in flight during the flush, its
   * answer is the connection's first packet after it and is picked up the other way round (see
   * {@link #flush}), after the flush: the server-side shape is deleted again at these delays.
   */
  static final List<Duration> LATE_PASSES = List.of(Duration.ofMillis(300), Duration.ofSeconds(2));

  /** Runs the late passes; a daemon thread, so it never holds the agent's exit. */
  private static final ScheduledExecutorService LATE =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "mirrord-conntrack-late");
            t.setDaemon(true);
            return t;
          });

  private final String conntrack;

  private ConntrackFlush(String conntrack) {
    this.conntrack = conntrack;
  }

  /** A flusher, or one that only logs if the {@code conntrack} tool is missing. */
  public static TcpStealer.FlushConnections create() {
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
      Path p = Path.of(dir, "conntrack");
      if (Files.isExecutable(p)) {
        return new ConntrackFlush(p.toString());
      }
    }
    return port -> logger.warn(
        "conntrack is not installed: connections to port {} opened before the steal stay on the"
            + " target (apt-get install conntrack)", port);
  }

  @Override
  public void flush(int port) {
    String p = Integer.toString(port);
    // Two shapes of entry belong to a flow that still reaches the target's own server:
    // - client -> target:port, answered from port (reply source port = port). A connection that is
    //   already redirected has the agent's port there: deleting its entry would strip the reverse
    //   NAT from its replies (they would leave from the agent's port and be dropped by the client),
    //   breaking a connection the steal already owns.
    // - target:port -> client: a namespace with no conntrack user tracks nothing until our first
    //   REDIRECT rule appears; a flow whose first packet after that is the server's (an answer, an
    //   ACK) is picked up mid-stream the other way round, and its client packets then match the
    //   entry's reply direction, which the nat table never sees: without this delete such a
    //   keep-alive connection stayed on the target for good (seen in the e2e lab).
    delete(port, List.of("--orig-port-dst", p, "--reply-port-src", p), false);
    List<String> serverSide = List.of("--orig-port-src", p, "--reply-port-dst", p);
    delete(port, serverSide, false);
    // Deleting a server-side entry later is harmless even after the steal ended: the next packet
    // makes a fresh one.
    for (Duration delay : LATE_PASSES) {
      LATE.schedule(() -> delete(port, serverSide, true), delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void delete(int port, List<String> filter, boolean late) {
    List<String> cmd = new java.util.ArrayList<>(List.of(conntrack, "-D", "-p", "tcp"));
    cmd.addAll(filter);
    cmd.addAll(List.of("--state", "ESTABLISHED"));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      // conntrack exits 1 when nothing matched; that is the common case, not an error.
      if (!late) {
        logger.info("flushed established connections to port {} ({}): {}", port, String.join(" ", filter),
            out.isEmpty() ? "none" : out);
      } else if (out.contains("deleted") && !out.contains(" 0 flow entries")) {
        logger.info("late flush of connections to port {} ({}): {}", port, String.join(" ", filter), out);
      }
    } catch (IOException e) {
      logger.warn("conntrack failed for port {}: {}", port, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
