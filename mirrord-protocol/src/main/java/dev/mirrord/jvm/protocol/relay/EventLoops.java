package dev.mirrord.jvm.protocol.relay;

import io.netty.util.concurrent.EventExecutor;

/** Running relay work on the event loop that owns a socket. */
public final class EventLoops {
  private EventLoops() {}

  /**
   * Runs {@code task} now when the caller is on {@code loop}, else queues it there. Relayed
   * sockets live on the loop of the protocol connection that carries them, so a message for one
   * is normally applied in the same call that decoded it: no task, no deferral to the end of the
   * loop's turn. Callers on one thread keep their order either way.
   */
  public static void run(EventExecutor loop, Runnable task) {
    if (loop.inEventLoop()) {
      task.run();
    } else {
      loop.execute(task);
    }
  }
}
