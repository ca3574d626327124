package dev.mirrord.jvm.protocol.jvm;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The JDK's ahead-of-time caches (JEP 483/514/515) of the CLI's and the pod agent's JVMs: classes
 * already read, parsed and linked, and method profiles, from a training session ({@code mirrord
 * aot-train}, run by {@code bin/mirrord} once per build), mapped at start-up by {@code
 * -XX:AOTCache}.
 *
 * <p>A cache belongs to one jar and one JDK: its file name is {@code <jar name>-<hash of the jar's
 * real path>-<hash of the jar's size and mtime, the JDK's real home and runtime version>.aot} in
 * the cache directory ({@link #root}); {@code bin/mirrord} computes the same name for the CLI's
 * own cache ({@code scripts/aot-cache-name.sh}). JDK 25 itself does not notice a changed jar behind
 * a cache (it would run the old classes), so the name is what keeps a rebuilt jar away from it. A rebuilt jar or another JDK is simply another name (a miss); a new cache replaces the
 * older ones of the same jar path ({@link #install}). Writers build into a temporary file of their
 * own and rename it into place, so concurrent trainings leave one whole cache. A cache the JVM
 * still refuses (damaged, or of another JVM build) never fails a run: {@code
 * -XX:+VerifySharedSpaces} makes the JVM check the whole file before using it, a refused cache is
 * ignored by the JVM, and {@link #refusedByThisJvm} turns that into one log line and deletes the
 * file so that the next {@code bin/mirrord} builds it again.
 */
public final class AotCache {
  /** {@code MIRRORD_AOT=off}: no caches at all (no training, no {@code -XX:AOTCache}, no hook cache). */
  public static final String SWITCH_ENV = "MIRRORD_AOT";

  /** The cache directory, instead of {@code $XDG_CACHE_HOME/mirrord-jvm} or {@code ~/.cache/mirrord-jvm}. */
  public static final String DIR_ENV = "MIRRORD_AOT_CACHE_DIR";

  /** System property naming the cache a JVM was started with (set by {@link #useFlags}). */
  public static final String PROPERTY = "mirrord.aot.cache";

  private AotCache() {}

  /** The cache directory for this environment, or null if caches are off or no directory is known. */
  public static Path root(Function<String, String> env) {
    if ("off".equalsIgnoreCase(blankToNull(env.apply(SWITCH_ENV)))) {
      return null;
    }
    String dir = blankToNull(env.apply(DIR_ENV));
    if (dir != null) {
      return Path.of(dir);
    }
    String xdg = blankToNull(env.apply("XDG_CACHE_HOME"));
    if (xdg != null) {
      return Path.of(xdg, "mirrord-jvm");
    }
    String home = blankToNull(env.apply("HOME"));
    return home == null ? null : Path.of(home, ".cache", "mirrord-jvm");
  }

  /**
   * The cache file of {@code jar} run by the JDK at {@code javaHome} (runtime version {@code
   * runtimeVersion}, {@code java.runtime.version}).
   *
   * @throws IOException if the jar or the JDK cannot be read
   */
  public static Path file(Path root, Path jar, Path javaHome, String runtimeVersion) throws IOException {
    Path real = jar.toRealPath();
    BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
    String state =
        a.size()
            + "|"
            + a.lastModifiedTime().to(TimeUnit.SECONDS)
            + "|"
            + javaHome.toRealPath()
            + "|"
            + runtimeVersion;
    return root.resolve(prefix(real) + fnv(state) + ".aot");
  }

  /** {@code <jar name without .jar>-<8 hex digits of its path>-}: what every cache of one jar path starts with. */
  static String prefix(Path realJar) {
    String name = realJar.getFileName().toString();
    if (name.endsWith(".jar")) {
      name = name.substring(0, name.length() - 4);
    }
    return name + "-" + fnv(realJar.toString()) + "-";
  }

  /** The options that start a JVM from {@code cache}; none if there is no such file. */
  public static List<String> useFlags(Path cache) {
    if (cache == null || !Files.isRegularFile(cache)) {
      return List.of();
    }
    return List.of(
        "-XX:AOTCache=" + cache,
        "-XX:+VerifySharedSpaces",
        "-Xlog:aot*=off",
        "-Xlog:cds*=off",
        "-D" + PROPERTY + "=" + cache);
  }

  /** The options of a training run that records what a cache should hold into {@code config}. */
  public static List<String> recordFlags(Path config) {
    return List.of(
        "-XX:AOTMode=record", "-XX:AOTConfiguration=" + config, "-Xlog:aot*=off", "-Xlog:cds*=off");
  }

  /** The command that builds the cache {@code output} of {@code jar} from a training's {@code config}. */
  public static List<String> createCommand(
      Path java, List<String> jvmOptions, Path config, Path output, Path jar) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(
        List.of(
            "-XX:AOTMode=create",
            "-XX:AOTConfiguration=" + config,
            "-XX:AOTCache=" + output,
            "-cp",
            jar.toString()));
    return List.copyOf(cmd);
  }

  /**
   * Puts the finished cache {@code built} (a file in the same directory) in place as {@code target}
   * with one rename, then deletes the older caches of the same jar path, and those of other jar
   * paths older than {@value #STALE_DAYS} days.
   */
  public static void install(Path built, Path target) throws IOException {
    try {
      Files.move(built, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(built, target, StandardCopyOption.REPLACE_EXISTING);
    }
    String name = target.getFileName().toString();
    String jarPrefix = name.substring(0, name.lastIndexOf('-') + 1);
    long stale = System.currentTimeMillis() - STALE_DAYS * 86_400_000L;
    try (DirectoryStream<Path> others = Files.newDirectoryStream(target.getParent(), "*.aot")) {
      for (Path old : others) {
        String n = old.getFileName().toString();
        // older builds of this jar; and caches of jars elsewhere (other checkouts, benchmark copies) unused for long
        if (!n.equals(name)
            && (n.startsWith(jarPrefix) || Files.getLastModifiedTime(old).toMillis() < stale)) {
          Files.deleteIfExists(old);
        }
      }
    }
  }

  /** Days after which the cache of another jar path, not rebuilt since, is removed by {@link #install}. */
  static final int STALE_DAYS = 14;

  /**
   * If this JVM was started from a cache ({@value #PROPERTY}) and does not share classes, the JVM
   * refused the cache: deletes it and returns the one line to log; else null.
   */
  public static String refusedByThisJvm() {
    String cache = System.getProperty(PROPERTY);
    if (cache == null || System.getProperty("java.vm.info", "").contains("sharing")) {
      return null;
    }
    try {
      Files.deleteIfExists(Path.of(cache));
    } catch (IOException | RuntimeException e) {
      return "the start-up cache " + cache + " was not usable (damaged, or made for another JDK or jar)"
          + " and cannot be removed (" + e.getMessage() + "); this run started without it";
    }
    return "the start-up cache " + cache + " was not usable (damaged, or made for another JDK or jar);"
        + " this run started without it, removed it, and the next bin/mirrord builds it again";
  }

  /**
   * FNV-1a (32 bit) over the code points of {@code s}, 8 hex digits: what {@code
   * scripts/aot-cache-name.sh} computes in bash without starting a process (a name, not a checksum).
   */
  static String fnv(String s) {
    int h = 0x811c9dc5;
    for (int cp : s.codePoints().toArray()) {
      h ^= cp;
      h *= 16777619;
    }
    return String.format("%08x", h);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
