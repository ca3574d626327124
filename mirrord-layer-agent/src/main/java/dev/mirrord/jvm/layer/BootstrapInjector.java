package dev.mirrord.jvm.layer;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Makes the {@code layer.bootstrap} package visible from the boot class loader, where advice
 * inlined into JDK classes looks for it. Runs before any class of that package is loaded, and
 * never references one: a copy loaded by the system class loader first would shadow the boot one
 * for the layer, so JDK classes and the layer would see two different {@code LayerBridge}s.
 *
 * <p>Normally there is nothing to do: the layer jar's manifest names the jar itself as its {@code
 * Boot-Class-Path}, so the JVM appends it to the boot class path before premain, and every class of
 * the layer, this one too, is the boot loader's ({@code "on the boot class path"}). The boot loader
 * finds and defines a class in native code, without the system class loader's Java-level jar
 * lookup, code source and package bookkeeping, which the app's start paid for each of the few
 * hundred classes the layer loads before {@code main} (docs/PERFORMANCE.md, 2026-12-06 16:15). Nor
 * does it verify them. The manifest's path is relative to the jar: a copy under another name (or a
 * classes directory) leaves the layer to the system class loader, and then two ways remain, the
 * first one preferred:
 *
 * <ol>
 *   <li><b>define</b> the package's classes directly in the boot loader ({@code BootDefiner}). Nothing
 *       is appended to the boot class path, so the JVM keeps class-data sharing and prints nothing
 *       (appending at run time makes HotSpot print "Sharing is only supported for boot loader
 *       classes because bootstrap classpath has been appended" on the app's stderr);
 *   <li><b>append</b>: copy the class files into a temporary jar (deleted on exit) and call {@link
 *       Instrumentation#appendToBootstrapClassLoaderSearch}, if defining is impossible (or forced
 *       with {@code -Dmirrord.layer.bootstrap=append}, for diagnosis).
 * </ol>
 */
final class BootstrapInjector {
  static final String BRIDGE_CLASS = "dev.mirrord.jvm.layer.bootstrap.LayerBridge";
  /**
   * Every class of the bootstrap package, nested ones too, defined in this order: a class whose
   * supertype is in this package must come after it (the boot loader could not find it otherwise).
   * Read by name: iterating the layer jar's ~5 000 entries cost 10–20 ms of the app's start. {@code
   * BootstrapInjectorTest} checks the list against the compiled package.
   */
  static final List<String> CLASSES =
      List.of(
          "dev.mirrord.jvm.layer.bootstrap.HookResult",
          "dev.mirrord.jvm.layer.bootstrap.HookResult$Reason",
          "dev.mirrord.jvm.layer.bootstrap.BypassGuard",
          "dev.mirrord.jvm.layer.bootstrap.BypassGuard$Scope",
          "dev.mirrord.jvm.layer.bootstrap.LayerHooks",
          "dev.mirrord.jvm.layer.bootstrap.LayerBridge");
  /**
   * Compiled apart, against {@code jdk.internal.misc} ({@code src/main/java-internal}): named, never
   * referenced, so that no other class of the layer links to it.
   */
  static final String DEFINER_CLASS = "dev.mirrord.jvm.layer.BootDefiner";
  /** System property that forces the append route ({@code append}). */
  static final String STRATEGY_PROPERTY = "mirrord.layer.bootstrap";

  private BootstrapInjector() {}

  /**
   * Makes the bootstrap package boot-visible (unless it already is: the jar's {@code
   * Boot-Class-Path}, or the agent was given twice). Returns how: {@code "on the boot class path
   * (...)"}, {@code "defined"}, {@code "appended (...)"} or {@code "already present"}.
   *
   * @throws IOException if the package cannot be read or does not end up boot-visible
   */
  static String inject(Instrumentation inst, Class<?> agentClass) throws IOException {
    String how;
    if (agentClass.getClassLoader() == null) {
      // not where from: finding the jar would open it in Java before the hooks are in (see LayerBuild)
      how = "on the boot class path (the jar's Boot-Class-Path)";
    } else if (bootVisible()) {
      how = "already present";
    } else {
      Path source = agentLocation(agentClass);
      Map<String, byte[]> classes = read(source, CLASSES);
      try {
        if ("append".equals(System.getProperty(STRATEGY_PROPERTY))) {
          throw new UnsupportedOperationException("-D" + STRATEGY_PROPERTY + "=append");
        }
        define(inst, read(source, List.of(DEFINER_CLASS)).get(DEFINER_CLASS), classes);
        how = "defined";
      } catch (Exception | LinkageError e) {
        if (bootVisible()) {
          throw new IOException("bootstrap classes half-defined in the boot loader", e);
        }
        Path tmp = Files.createTempFile("mirrord-layer-bootstrap-", ".jar");
        tmp.toFile().deleteOnExit();
        write(classes, tmp);
        inst.appendToBootstrapClassLoaderSearch(new JarFile(tmp.toFile()));
        how = "appended " + tmp + " (could not define: " + e + ")";
      }
    }
    check(agentClass);
    return how;
  }

  private static void define(Instrumentation inst, byte[] definerBytes, Map<String, byte[]> classes)
      throws Exception {
    IsolatedLoader loader = new IsolatedLoader();
    Class<?> definerType = loader.define(DEFINER_CLASS, definerBytes);
    Module javaBase = Object.class.getModule();
    inst.redefineModule(
        javaBase,
        Set.of(),
        Map.of("jdk.internal.misc", Set.of(definerType.getModule())),
        Map.of(),
        Set.of(),
        Map.of());
    @SuppressWarnings("unchecked")
    BiFunction<String, byte[], Class<?>> definer =
        (BiFunction<String, byte[], Class<?>>) definerType.getConstructor().newInstance();
    for (Map.Entry<String, byte[]> c : classes.entrySet()) {
      definer.apply(c.getKey(), c.getValue());
    }
  }

  private static void check(Class<?> agentClass) throws IOException {
    if (!bootVisible()) {
      throw new IOException("the layer's bootstrap classes did not reach the boot class loader");
    }
    try {
      Class<?> seen = Class.forName(BRIDGE_CLASS, false, agentClass.getClassLoader());
      if (seen.getClassLoader() != null) {
        throw new IOException(
            "LayerBridge was already loaded by " + seen.getClassLoader() + ", not the boot loader");
      }
    } catch (ClassNotFoundException e) {
      throw new IOException("LayerBridge not found", e);
    }
  }

  static boolean bootVisible() {
    try {
      Class.forName(BRIDGE_CLASS, false, null);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** The jar or classes directory {@code agentClass} was loaded from (a class of the system class loader). */
  static Path agentLocation(Class<?> agentClass) throws IOException {
    CodeSource cs = agentClass.getProtectionDomain().getCodeSource();
    if (cs == null || cs.getLocation() == null) {
      throw new IOException("cannot tell where the layer's classes come from");
    }
    try {
      return Path.of(cs.getLocation().toURI());
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new IOException("cannot use layer location " + cs.getLocation(), e);
    }
  }

  /**
   * The class files of {@code names} (binary names) in {@code source}, a jar or a classes
   * directory, in the order given.
   *
   * @throws IOException if one is missing or cannot be read
   */
  static Map<String, byte[]> read(Path source, List<String> names) throws IOException {
    Map<String, byte[]> classes = new LinkedHashMap<>();
    if (Files.isDirectory(source)) {
      for (String name : names) {
        Path file = source.resolve(entryName(name));
        if (!Files.isRegularFile(file)) {
          throw new IOException("no " + file);
        }
        classes.put(name, Files.readAllBytes(file));
      }
    } else {
      // the app's class loader has this jar open already: the JDK shares its parsed directory
      try (JarFile jar = new JarFile(source.toFile(), false)) {
        for (String name : names) {
          JarEntry e = jar.getJarEntry(entryName(name));
          if (e == null) {
            throw new IOException("no " + entryName(name) + " in " + source);
          }
          try (InputStream in = jar.getInputStream(e)) {
            classes.put(name, in.readAllBytes());
          }
        }
      }
    }
    return classes;
  }

  /** Writes {@code classes} as a jar to {@code target}. */
  static void write(Map<String, byte[]> classes, Path target) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target))) {
      for (Map.Entry<String, byte[]> c : classes.entrySet()) {
        out.putNextEntry(new JarEntry(c.getKey().replace('.', '/') + ".class"));
        out.write(c.getValue());
        out.closeEntry();
      }
    }
  }

  private static String entryName(String binaryName) {
    return binaryName.replace('.', '/') + ".class";
  }

  /** A throwaway loader (parent: boot) for {@code BootDefiner}, with its own unnamed module. */
  private static final class IsolatedLoader extends ClassLoader {
    IsolatedLoader() {
      super("mirrord-boot-definer", null);
    }

    Class<?> define(String name, byte[] bytes) {
      return defineClass(name, bytes, 0, bytes.length);
    }
  }
}
