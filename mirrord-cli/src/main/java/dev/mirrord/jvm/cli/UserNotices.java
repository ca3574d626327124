package dev.mirrord.jvm.cli;

import java.io.PrintWriter;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One-line messages for the user on stderr ({@code mirrord: warning: …}), also written to the log.
 * Thread-safe: the session proxy warns from a Netty thread while the command waits for the app.
 */
public final class UserNotices {
  private static final Logger logger = LoggerFactory.getLogger(UserNotices.class);

  private final PrintWriter err;

  public UserNotices(PrintWriter err) {
    this.err = Objects.requireNonNull(err, "err");
  }

  /** Prints {@code mirrord: warning: <what>}. */
  public void warn(String what) {
    logger.warn(what);
    line("mirrord: warning: " + what);
  }

  /** Prints {@code mirrord: error: <what>}: something the user asked for did not happen. */
  public void error(String what) {
    logger.error(what);
    line("mirrord: error: " + what);
  }

  /** Prints {@code mirrord: <what>}: facts the user asked for or should see (agent log lines). */
  public void info(String what) {
    logger.info(what);
    line("mirrord: " + what);
  }

  private synchronized void line(String text) {
    err.println(text);
    err.flush();
  }
}
