package dev.mirrord.jvm.protocol.jvm;

/** The JVM's shutdown as the CLI, the agent and the layer need to know it. */
public final class JvmShutdown {
  private JvmShutdown() {}

  /**
   * Whether the JVM has begun its shutdown ({@code System.exit}, a signal, the last thread ended). {@code Runtime}
   * refuses new hooks once it has: an exact answer, with no race against the scheduling of a hook of our own.
   */
  public static boolean begun() {
    Thread probe = new Thread(new Runnable() {
      @Override
      public void run() {}
    });
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }
}
