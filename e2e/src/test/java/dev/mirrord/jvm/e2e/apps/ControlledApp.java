package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sun.misc.Signal;

/**
 * {@code ControlledApp TRIGGER_FILE}: a long-running app the test steers from outside.
 *
 * <ul>
 *   <li>prints {@code app.ready pid=<pid> connected=<mirrord.layer.connected>} once it runs;
 *   <li>on SIGINT prints {@code app.signal=INT} and exits with {@value #SIGINT_EXIT} (a handler, not the JVM's
 *       default 130, so the test knows the signal reached the app's code);
 *   <li>when TRIGGER_FILE appears, starts a {@link ProbeApp} child JVM ({@code late.*} lines: a new layer connection
 *       through the running session), prints {@code app.late.exit=N} and exits 0;
 *   <li>exits 1 after {@value #MAX_SECONDS} s without either.
 * </ul>
 */
public final class ControlledApp {
  public static final int SIGINT_EXIT = 77;
  /** The ready line; group 1 is the app's pid, group 2 mirrord.layer.connected. */
  public static final String READY_REGEX = "^app\\.ready pid=(\\d+) connected=(\\S+)$";
  static final int MAX_SECONDS = 60;

  private ControlledApp() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: ControlledApp TRIGGER_FILE");
      System.exit(2);
    }
    Path trigger = Path.of(args[0]);
    Signal.handle(new Signal("INT"), s -> {
      System.out.println("app.signal=" + s.getName());
      System.out.flush();
      Runtime.getRuntime().halt(SIGINT_EXIT);
    });
    System.out.println("app.ready pid=" + ProcessHandle.current().pid()
        + " connected=" + System.getProperty("mirrord.layer.connected", ProbeApp.UNSET));
    System.out.flush();
    long deadline = System.nanoTime() + MAX_SECONDS * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(trigger)) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"), ProbeApp.class.getName(), "--role", "late")
            .inheritIO()
            .start();
        System.out.println("app.late.exit=" + child.waitFor());
        System.exit(0);
      }
      Thread.sleep(50);
    }
    System.out.println("app.timeout");
    System.exit(1);
  }
}
