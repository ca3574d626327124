package dev.mirrord.jvm.protocol.jvm;

/**
 * SLF4J's provider by name ({@code slf4j.provider}, SLF4J 2.0.9+) in the CLI and the agent, so
 * that SLF4J's start does not look for providers with a {@link java.util.ServiceLoader} over the
 * class path: reading every jar's {@code META-INF/services} on the start's critical path, ~15–25 ms
 * of each JVM's start (docs/PERFORMANCE.md, "the jars' launch without their manifests"). SLF4J
 * announces a provider so named on stderr at its INFO level, which is the app's terminal: its
 * internal reports go from WARN up ({@code slf4j.internal.verbosity}). A property the command line
 * already set is kept.
 */
public final class Slf4jProvider {
  static final String PROVIDER = "slf4j.provider";
  static final String VERBOSITY = "slf4j.internal.verbosity";

  private Slf4jProvider() {}

  /** Names {@code provider} as SLF4J's; call before the first logger. */
  public static void name(Class<?> provider) {
    if (System.getProperty(PROVIDER) == null) {
      System.setProperty(PROVIDER, provider.getName());
    }
    if (System.getProperty(VERBOSITY) == null) {
      System.setProperty(VERBOSITY, "WARN");
    }
  }
}
