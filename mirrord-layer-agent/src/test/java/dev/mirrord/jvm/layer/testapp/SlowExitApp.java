package dev.mirrord.jvm.layer.testapp;

/**
 * Exits with code 4 through a shutdown hook that lasts until the layer's connection is gone (at
 * most 10 s): the CLI closing the connection while the app is still exiting. Prints {@code
 * exiting=true} right before {@code System.exit}.
 */
public final class SlowExitApp {
  private SlowExitApp() {}

  public static void main(String[] args) throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!"false".equals(System.getProperty("mirrord.layer.connected")) && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
      System.out.println("hook.connected=" + System.getProperty("mirrord.layer.connected"));
    }));
    System.out.println("exiting=true");
    System.exit(4);
  }
}
