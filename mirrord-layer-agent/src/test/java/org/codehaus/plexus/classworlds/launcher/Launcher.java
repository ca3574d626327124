package org.codehaus.plexus.classworlds.launcher;

/**
 * A stand-in with the main class name of Maven's launcher (plexus classworlds), so that {@code
 * JvmSkipIT} can run "Maven's own JVM" in a child JVM without Maven: it prints whether the layer
 * attached and exits.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) {
    System.out.println("mirrord.layer.connected=" + System.getProperty("mirrord.layer.connected"));
  }
}
