package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.protocol.jvm.AotCache;

/** A JVM started from an AOT cache (or not) by {@link AotCacheIT}: prints what it found. */
public final class AotProbe {
  private AotProbe() {}

  public static void main(String[] args) {
    String refused = AotCache.refusedByThisJvm();
    System.out.println("sharing=" + System.getProperty("java.vm.info", "").contains("sharing"));
    System.out.println("refused=" + (refused == null ? "none" : refused));
    java.nio.file.Path verified = refused == null ? AotCache.recordVerified() : null;
    System.out.println("verified=" + (verified == null ? "none" : verified));
  }
}
