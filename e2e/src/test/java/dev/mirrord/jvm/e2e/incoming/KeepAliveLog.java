package dev.mirrord.jvm.e2e.incoming;

import dev.mirrord.jvm.e2e.lab.LabProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** The parsed output of a running {@code KeepAliveClient} (see its class comment for the line format). */
final class KeepAliveLog {
  /** One line: kind is connect/resp/error/fail; millis is the client's wall clock; text is the rest. */
  record Line(String kind, long seq, long millis, int conn, String text) {
    boolean answeredBy(String who) {
      return kind.equals("resp") && text.startsWith("hello from " + who + ":");
    }

    @Override
    public String toString() {
      return kind + " " + seq + " @" + millis + " conn " + conn + " " + text;
    }
  }

  private final LabProcess client;

  KeepAliveLog(LabProcess client) {
    this.client = client;
  }

  List<Line> lines() {
    List<Line> out = new ArrayList<>();
    for (String l : client.stdout().lines().toList()) {
      String[] w = l.split(" ", 5);
      try {
        switch (w[0]) {
          case "connect" -> out.add(new Line("connect", 0, Long.parseLong(w[2]), Integer.parseInt(w[1]), ""));
          case "resp", "error" -> out.add(new Line(w[0], Long.parseLong(w[1]), Long.parseLong(w[2]),
              Integer.parseInt(w[3]), w.length > 4 ? w[4] : ""));
          case "fail" -> out.add(new Line("fail", Long.parseLong(w[1]), Long.parseLong(w[2]), 0,
              l.substring(l.indexOf(w[2]) + w[2].length()).strip()));
          default -> { }
        }
      } catch (RuntimeException e) {
        // a line being written right now
      }
    }
    return out;
  }

  /** Lines at or after {@code sinceMillis}. */
  List<Line> since(long sinceMillis) {
    return lines().stream().filter(l -> l.millis() >= sinceMillis).toList();
  }

  /** Waits (bounded) for the first line at or after {@code sinceMillis} matching {@code p}. */
  Line await(long sinceMillis, Predicate<Line> p, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<Line> hit = since(sinceMillis).stream().filter(p).findFirst();
      if (hit.isPresent()) {
        return hit.get();
      }
      if (System.nanoTime() > deadline || !client.isAlive()) {
        throw new AssertionError("keep-alive client: no " + what + " within " + timeout + " (client alive: "
            + client.isAlive() + "); its lines since " + sinceMillis + ":\n" + tail(since(sinceMillis)));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static String tail(List<Line> lines) {
    List<Line> last = lines.subList(Math.max(0, lines.size() - 40), lines.size());
    StringBuilder s = new StringBuilder();
    last.forEach(l -> s.append("  ").append(l).append('\n'));
    return s.toString();
  }
}
