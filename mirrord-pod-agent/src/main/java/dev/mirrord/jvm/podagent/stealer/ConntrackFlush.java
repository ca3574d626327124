package dev.mirrord.jvm.podagent.stealer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes connections established before a steal reconnect into it: the nat table only sees new
 * connections, so keep-alive clients would stay on the target's server. Deleting their conntrack
 * entries makes the next packet of each such flow look new; it is then redirected to the agent,
 * which has no such connection and resets it, and the client reconnects, into the redirect.
 */
public final class ConntrackFlush implements TcpStealer.FlushConnections {
  private static final Logger logger = LoggerFactory.getLogger(ConntrackFlush.class);

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
    try {
      Process p =
          new ProcessBuilder(conntrack, "-D", "-p", "tcp", "--dport", Integer.toString(port),
                  "--state", "ESTABLISHED")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      // conntrack exits 1 when nothing matched; that is the common case, not an error.
      logger.info("flushed established connections to port {}: {}", port, out.isEmpty() ? "none" : out);
    } catch (IOException e) {
      logger.warn("conntrack failed for port {}: {}", port, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
