package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads of the layer's event loop: daemon (they must never keep the app's JVM alive, so the app's
 * exit code stays the app's), named {@code mirrord-layer-N} (visible in the app's thread dumps),
 * and inside {@link BypassGuard} for their whole life, so sockets the transport opens or connects on
 * them are never hooked.
 */
final class LayerThreadFactory implements ThreadFactory {
  private static final AtomicInteger NEXT = new AtomicInteger(1);

  @Override
  public Thread newThread(Runnable task) {
    Thread t =
        new FastThreadLocalThread(
            null,
            new Runnable() { // not a lambda: on the main connection's way up (LayerStartup says why)
              @Override
              public void run() {
                runGuarded(task);
              }
            },
            "mirrord-layer-" + NEXT.getAndIncrement());
    t.setDaemon(true);
    return t;
  }

  @SuppressWarnings("try") // the guard scope is entered for its effect
  private static void runGuarded(Runnable task) {
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      task.run();
    }
  }
}
