package dev.mirrord.jvm.podagent.session;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one client's tasks on a shared executor, one at a time and in the order given. The agent's
 * blocking pool has several threads; without this, a {@code PortUnsubscribe} and the {@code
 * PortSubscribe} that follows it (an app that closes its server socket and binds it again, as a
 * Spring Boot devtools restart does) could run in either order, and the port would end up handed
 * back while the app believes it is stolen.
 */
final class SerialExecutor implements Executor {
  private static final Logger logger = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor delegate;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean draining;

  SerialExecutor(Executor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (this) {
      tasks.add(task);
      if (draining) {
        return; // the running drain picks it up
      }
      draining = true;
    }
    try {
      delegate.execute(this::drain);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        draining = false;
        tasks.clear();
      }
      logger.debug("task dropped: the agent is shutting down");
    }
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (this) {
        next = tasks.poll();
        if (next == null) {
          draining = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        logger.warn("client task failed: {}", e.toString());
      }
    }
  }
}
