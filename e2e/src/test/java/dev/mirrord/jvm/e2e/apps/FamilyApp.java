package dev.mirrord.jvm.e2e.apps;

import java.nio.file.Path;

/**
 * {@code FamilyApp}: a JVM that starts a second JVM ({@code FamilyApp child}, inheriting its environment and so the
 * mirrord layer, as build tools and app servers do) and waits for it. Prints {@code family.parent pid=N} and, from
 * the child, {@code family.child pid=N}; both then just run (at most 60 s): the test ends them from outside. The
 * parent goes on running when its child has ended, as a server would: so its own exit code is what its own layer
 * chose, not a reaction to the child's (both layers lose their connection at the same instant).
 */
public final class FamilyApp {
  private FamilyApp() {}

  public static void main(String[] args) throws Exception {
    long pid = ProcessHandle.current().pid();
    if (args.length > 0 && args[0].equals("child")) {
      System.out.println("family.child pid=" + pid);
      System.out.flush();
      Thread.sleep(60_000);
      System.exit(1);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), FamilyApp.class.getName(),
        "child").inheritIO().start();
    System.out.println("family.parent pid=" + pid);
    System.out.flush();
    System.out.println("family.child.exit=" + child.waitFor());
    System.out.flush();
    Thread.sleep(60_000);
    System.exit(2);
  }
}
