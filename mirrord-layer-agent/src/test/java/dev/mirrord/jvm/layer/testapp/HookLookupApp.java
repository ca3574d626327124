package dev.mirrord.jvm.layer.testapp;

import java.net.InetAddress;

/**
 * Looks up {@code args[0]} in a shutdown hook, 200 ms into the JVM's shutdown, and prints {@code
 * hook.<name>=<address or exception>} and {@code hook.connected=<mirrord.layer.connected>}; then ends
 * by {@code System.exit(0)} if {@code args[1]} is {@code exit}, else by returning from {@code main}.
 */
public final class HookLookupApp {
  private HookLookupApp() {}

  public static void main(String[] args) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
      String answer;
      try {
        answer = InetAddress.getByName(args[0]).getHostAddress();
      } catch (Exception e) {
        answer = e.getClass().getSimpleName();
      }
      System.out.println("hook." + args[0] + "=" + answer);
      System.out.println("hook.connected=" + System.getProperty("mirrord.layer.connected"));
    }));
    System.out.println("exiting=true");
    if (args.length > 1 && args[1].equals("exit")) {
      System.exit(0);
    }
  }
}
