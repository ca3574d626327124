package dev.mirrord.jvm.layer;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Makes the {@code layer.bootstrap} package visible from the boot class loader, where advice
 * inlined into JDK classes looks for it. Runs before any class of that package is loaded, and
 * never references one: a copy loaded by the system class loader first would shadow the boot one
 * for the layer, so JDK classes and the layer would see two different {@code LayerBridge}s.
 *
 * <p>Two ways, the first one preferred:
 *
 * <ol>
 *   <li><b>define</b> the package's classes directly in the boot loader ({@link BootDefiner}). Nothing
 *       is appended to the boot class path, so the JVM keeps class-data sharing and prints nothing
 *       (appending at run time makes HotSpot print "Sharing is only supported for boot loader
 *       classes because bootstrap classpath has been appended" on the app's stderr);
 *   <li><b>append</b>: copy the class files into a temporary jar (deleted on exit) and call {@link
 *       Instrumentation#appendToBootstrapClassLoaderSearch}, if defining is impossible (or forced
 *       with {@code -Dmirrord.layer.bootstrap=append}, for diagnosis).
 * </ol>
 */
final class BootstrapInjector {
  static final String PACKAGE_DIR = "dev/mirrord/jvm/layer/bootstrap/";
  static final String BRIDGE_CLASS = "dev.mirrord.jvm.layer.bootstrap.LayerBridge";
  /** System property that forces the append route ({@code append}). */
  static final String STRATEGY_PROPERTY = "mirrord.layer.bootstrap";

  private BootstrapInjector() {}

  /**
   * Makes the bootstrap package boot-visible (unless it already is, e.g. the agent was given
   * twice). Returns how: {@code "defined"}, {@code "appended (...)"} or {@code "already present"}.
   *
   * @throws IOException if the package cannot be read or does not end up boot-visible
   */
  static String inject(Instrumentation inst, Class<?> agentClass) throws IOException {
    String how;
    if (bootVisible()) {
      how = "already present";
    } else {
      Path source = agentLocation(agentClass);
      Map<String, byte[]> classes = read(source);
      try {
        if ("append".equals(System.getProperty(STRATEGY_PROPERTY))) {
          throw new UnsupportedOperationException("-D" + STRATEGY_PROPERTY + "=append");
        }
        define(inst, agentClass, classes);
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

  private static void define(Instrumentation inst, Class<?> agentClass, Map<String, byte[]> classes)
      throws Exception {
    IsolatedLoader loader = new IsolatedLoader();
    String definerName = BootDefiner.class.getName();
    byte[] definerBytes;
    try (InputStream in =
        agentClass.getClassLoader().getResourceAsStream(definerName.replace('.', '/') + ".class")) {
      if (in == null) {
        throw new IOException("no class file for " + definerName);
      }
      definerBytes = in.readAllBytes();
    }
    Class<?> definerType = loader.define(definerName, definerBytes);
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

  /** The jar or classes directory {@code agentClass} was loaded from. */
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
   * The class files of {@link #PACKAGE_DIR} in {@code source} (a jar or a classes directory), by
   * binary name, in a stable order.
   */
  static Map<String, byte[]> read(Path source) throws IOException {
    Map<String, byte[]> classes = new LinkedHashMap<>();
    if (Files.isDirectory(source)) {
      List<Path> files;
      try (Stream<Path> s = Files.list(source.resolve(PACKAGE_DIR))) {
        files = s.filter(BootstrapInjector::isClassFile).sorted().collect(Collectors.toList());
      }
      for (Path f : files) {
        classes.put(binaryName(PACKAGE_DIR + f.getFileName()), Files.readAllBytes(f));
      }
    } else {
      try (JarFile jar = new JarFile(source.toFile())) {
        Enumeration<JarEntry> entries = jar.entries();
        while (entries.hasMoreElements()) {
          JarEntry e = entries.nextElement();
          String name = e.getName();
          if (name.startsWith(PACKAGE_DIR)
              && name.indexOf('/', PACKAGE_DIR.length()) < 0
              && name.endsWith(".class")
              && !name.endsWith("package-info.class")) {
            try (InputStream in = jar.getInputStream(e)) {
              classes.put(binaryName(name), in.readAllBytes());
            }
          }
        }
      }
    }
    if (classes.isEmpty()) {
      throw new IOException("no " + PACKAGE_DIR + " classes in " + source);
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

  private static boolean isClassFile(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && n.endsWith(".class") && !n.equals("package-info.class");
  }

  private static String binaryName(String entry) {
    return entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
  }

  /** A throwaway loader (parent: boot) for {@link BootDefiner}, with its own unnamed module. */
  private static final class IsolatedLoader extends ClassLoader {
    IsolatedLoader() {
      super("mirrord-boot-definer", null);
    }

    Class<?> define(String name, byte[] bytes) {
      return defineClass(name, bytes, 0, bytes.length);
    }
  }
}
