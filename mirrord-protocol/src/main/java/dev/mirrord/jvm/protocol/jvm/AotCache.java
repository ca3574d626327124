package dev.mirrord.jvm.protocol.jvm;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 *
 * <p>That check (a checksum over the whole 30-odd MB file) cost 80–90 ms of every start of the CLI
 * and of the agent, so it runs once per cache file: a JVM that checked its cache and uses it
 * writes a marker ({@code <cache>.verified}) holding the file's {@linkplain #stamp stamp} (size,
 * inode, modification and change times to the nanosecond), and a later start whose cache still has
 * that stamp skips the check ({@link #useFlags}). Any write to the file, a rename or a new file in
 * its place changes the stamp, so a cache damaged after its check is checked again.
 */
public final class AotCache {
  /** {@code MIRRORD_AOT=off}: no caches at all (no training, no {@code -XX:AOTCache}, no hook cache). */
  public static final String SWITCH_ENV = "MIRRORD_AOT";

  /** The cache directory, instead of {@code $XDG_CACHE_HOME/mirrord-jvm} or {@code ~/.cache/mirrord-jvm}. */
  public static final String DIR_ENV = "MIRRORD_AOT_CACHE_DIR";

  /** System property naming the cache a JVM was started with (set by {@link #useFlags}). */
  public static final String PROPERTY = "mirrord.aot.cache";

  /**
   * System property with the {@linkplain #stamp stamp} of a cache that this JVM checks whole ({@code
   * -XX:+VerifySharedSpaces}); {@link #recordVerified} writes it to the marker.
   */
  public static final String STAMP_PROPERTY = "mirrord.aot.stamp";

  /** What the marker of a checked cache is named: the cache's file name plus this. */
  public static final String VERIFIED_SUFFIX = ".verified";

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

  /**
   * The options that start a JVM from {@code cache}; none if there is no such file. The JVM checks
   * the whole file first unless its marker says a JVM already did so for this very file.
   */
  public static List<String> useFlags(Path cache) {
    if (cache == null || !Files.isRegularFile(cache)) {
      return List.of();
    }
    List<String> flags = new ArrayList<>();
    flags.add("-XX:AOTCache=" + cache);
    String stamp = stamp(cache);
    if (stamp == null || !stamp.equals(readMarker(cache))) {
      flags.add("-XX:+VerifySharedSpaces");
      if (stamp != null) {
        flags.add("-D" + STAMP_PROPERTY + "=" + stamp);
      }
    }
    flags.addAll(List.of("-Xlog:aot*=off", "-Xlog:cds*=off", "-D" + PROPERTY + "=" + cache));
    return List.copyOf(flags);
  }

  /**
   * One state of {@code file}: {@code <size>,<inode>,<mtime>,<ctime>}, the times in seconds with
   * nine decimals — what {@code stat -L -c '%s,%i,%.9Y,%.9Z'} prints ({@code bin/mirrord} computes
   * the CLI cache's stamp so). Null if it cannot be read.
   */
  public static String stamp(Path file) {
    try {
      Map<String, Object> a = Files.readAttributes(file, "unix:size,ino,lastModifiedTime,ctime");
      return a.get("size") + "," + a.get("ino") + "," + seconds((FileTime) a.get("lastModifiedTime")) + ","
          + seconds((FileTime) a.get("ctime"));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String seconds(FileTime t) {
    Instant i = t.toInstant();
    // not String.format: its first use costs 10-17 ms of a start (Formatter, locale data)
    String nanos = Integer.toString(i.getNano());
    return i.getEpochSecond() + "." + "000000000".substring(nanos.length()) + nanos;
  }

  /** The marker of {@code cache}: its file name plus {@value #VERIFIED_SUFFIX}. */
  public static Path marker(Path cache) {
    return cache.resolveSibling(cache.getFileName() + VERIFIED_SUFFIX);
  }

  private static String readMarker(Path cache) {
    try {
      return Files.readString(marker(cache)).strip();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * If this JVM checked its whole cache ({@value #STAMP_PROPERTY} set) and uses it, and the file is
   * still the one stamped before the start, writes the marker so that later starts skip the check;
   * returns the marker, or null if none was written (nothing to record, or it cannot be written:
   * then the next start checks again, which costs time, never correctness).
   */
  public static Path recordVerified() {
    String cache = System.getProperty(PROPERTY);
    String stamp = System.getProperty(STAMP_PROPERTY);
    if (cache == null || stamp == null || !System.getProperty("java.vm.info", "").contains("sharing")) {
      return null;
    }
    Path file = Path.of(cache);
    if (!stamp.equals(stamp(file))) {
      return null; // replaced since this JVM was started: the new file has not been checked
    }
    Path marker = marker(file);
    Path tmp = marker.resolveSibling(marker.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    try {
      Files.writeString(tmp, stamp + "\n");
      try {
        Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, marker, StandardCopyOption.REPLACE_EXISTING);
      }
      return marker;
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException | RuntimeException ignored) {
        // nothing more to do
      }
      return null;
    }
  }

  /**
   * The options of a training run that records what a cache should hold into {@code config}; the JVM knows by
   * {@link WarmUps#RECORDING_PROPERTY} that its exit should wait for its warm-ups.
   */
  public static List<String> recordFlags(Path config) {
    return List.of(
        "-XX:AOTMode=record", "-XX:AOTConfiguration=" + config, "-Xlog:aot*=off", "-Xlog:cds*=off",
        "-D" + WarmUps.RECORDING_PROPERTY + "=true");
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
          Files.deleteIfExists(marker(old));
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
      Files.deleteIfExists(marker(Path.of(cache)));
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
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      h ^= cp;
      h *= 16777619;
      i += Character.charCount(cp);
    }
    String hex = Integer.toHexString(h); // not String.format (see seconds)
    return "00000000".substring(hex.length()) + hex;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
