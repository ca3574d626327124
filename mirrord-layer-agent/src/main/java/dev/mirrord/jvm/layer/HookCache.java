package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.internal.PlainFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.CRC32C;

/**
 * The hooked classes of earlier runs, on disk, so that a JVM whose JDK classes are the same as
 * last time gets its hooks without loading Byte Buddy (about 1 100 classes, most of the layer's
 * start-up). A hooked class is a pure function of the class bytes the JVM hands the transformer,
 * the layer's build and the JDK: entries are looked up by class name and the CRC-32C of those
 * bytes, inside a directory named after the layer's build ({@code LayerBuild.ID}: its version and
 * build time) and the JDK (home, version) — see {@link #forBuild}. Anything else (another JDK, a
 * rebuilt layer, a class another agent changed first) is a miss, and Byte Buddy hooks it as before
 * and stores the result.
 *
 * <p>One file per class and input, {@code <class name>-<input crc>.hook}:
 *
 * <pre>
 *   int magic 0x4D524448 ("MRDH") | int format 1 | int input length | int input CRC-32C
 *   int output length (-1: Byte Buddy left the class unchanged) | int output CRC-32C | output bytes
 * </pre>
 *
 * A file that does not parse or whose output does not match its CRC is <b>corrupt</b>: it is
 * deleted with one log line and rebuilt, never handed to the JVM. Writers write a temporary file of
 * their own and rename it over the entry (atomic on one file system), so JVMs racing to store the
 * same entry leave one whole file. Every I/O failure only means "no cache".
 */
final class HookCache {
  static final int MAGIC = 0x4D524448;
  static final int FORMAT = 1;
  static final int HEADER = 24;
  static final String SUFFIX = ".hook";

  /** What a lookup found. */
  enum Status {
    /** A valid entry: {@link Lookup#bytes()} are the hooked class, or null if it stays as it is. */
    HIT,
    MISS,
    /** A damaged file: deleted, to be rebuilt. */
    CORRUPT
  }

  record Lookup(Status status, byte[] bytes, String problem) {
    static final Lookup MISS = new Lookup(Status.MISS, null, null);
  }

  private final Path dir;
  private final LayerLog log;

  HookCache(Path dir, LayerLog log) {
    this.dir = dir;
    this.log = log;
  }

  /**
   * The cache of this layer build ({@code LayerBuild.ID}: a rebuilt layer has another) on this JDK
   * under {@code root}, or null if {@code root} is null.
   * The directory is created when the first entry is stored.
   */
  static HookCache forBuild(Path root, String layerBuild, LayerLog log) {
    if (root == null) {
      return null;
    }
    CRC32C crc = new CRC32C();
    StringBuilder key = new StringBuilder(layerBuild);
    key.append('|').append(System.getProperty("java.home"));
    key.append('|').append(System.getProperty("java.vm.version"));
    key.append('|').append(System.getProperty("java.runtime.version"));
    byte[] k = key.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    crc.update(k, 0, k.length);
    return new HookCache(
        root.resolve("hooks-" + Integer.toHexString((int) crc.getValue()) + "-" + k.length), log);
  }

  Path dir() {
    return dir;
  }

  static int crc(byte[] bytes) {
    CRC32C c = new CRC32C();
    c.update(bytes, 0, bytes.length);
    return (int) c.getValue();
  }

  Path file(String className, byte[] input) {
    return dir.resolve(className + "-" + Integer.toHexString(crc(input)) + SUFFIX);
  }

  /** The stored hook of {@code className} for exactly these input bytes. */
  Lookup lookup(String className, byte[] input) {
    Path f = file(className, input);
    byte[] data;
    try {
      data = PlainFiles.readAllBytes(f); // runs inside transformations: see there
    } catch (java.nio.file.NoSuchFileException e) {
      return Lookup.MISS;
    } catch (IOException | RuntimeException e) {
      log.debug("hook cache: cannot read " + f + ": " + e);
      return Lookup.MISS;
    }
    String problem = check(data, input);
    if (problem == null) {
      ByteBuffer b = ByteBuffer.wrap(data);
      int outLength = b.getInt(16);
      byte[] out = null;
      if (outLength >= 0) {
        out = new byte[outLength];
        System.arraycopy(data, HEADER, out, 0, outLength);
      }
      return new Lookup(Status.HIT, out, null);
    }
    if (problem.startsWith("input")) {
      return Lookup.MISS; // a CRC-32C collision of two inputs: not damage, just not ours
    }
    try {
      Files.deleteIfExists(f);
    } catch (IOException | RuntimeException e) {
      // the rebuilt entry replaces it anyway
    }
    return new Lookup(Status.CORRUPT, null, problem);
  }

  /** Null if {@code data} is a whole entry for {@code input}, else what is wrong with it. */
  static String check(byte[] data, byte[] input) {
    if (data.length < HEADER) {
      return "truncated (" + data.length + " bytes)";
    }
    ByteBuffer b = ByteBuffer.wrap(data);
    if (b.getInt(0) != MAGIC || b.getInt(4) != FORMAT) {
      return "not a hook cache entry of format " + FORMAT;
    }
    if (b.getInt(8) != input.length || b.getInt(12) != crc(input)) {
      return "input differs";
    }
    int outLength = b.getInt(16);
    int expected = HEADER + Math.max(outLength, 0);
    if (outLength < -1 || data.length != expected) {
      return "length " + data.length + ", header says " + expected;
    }
    if (outLength >= 0) {
      CRC32C c = new CRC32C();
      c.update(data, HEADER, outLength);
      if ((int) c.getValue() != b.getInt(20)) {
        return "checksum mismatch";
      }
    }
    return null;
  }

  /** Stores the hook of {@code className} for {@code input}: {@code output}, or null for "unchanged". */
  void store(String className, byte[] input, byte[] output) {
    Path f = file(className, input);
    Path tmp = null;
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        pruneOthers();
      }
      // a name of our own (not createTempFile: its SecureRandom costs more than the whole entry)
      tmp = dir.resolve(className + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
      Files.write(tmp, entry(input, output), java.nio.file.StandardOpenOption.CREATE_NEW);
      try {
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
      log.debug("hook cache: stored " + f.getFileName());
    } catch (IOException | RuntimeException e) {
      log.debug("hook cache: cannot store " + f + ": " + e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException | RuntimeException e) {
          // nothing more to do
        }
      }
    }
  }

  /** Days after which the cache directory of another layer build or JDK, untouched since, is removed. */
  static final int STALE_DAYS = 14;

  /**
   * A new directory means a new layer build or JDK: the directories of others that nobody wrote
   * to for {@value #STALE_DAYS} days go (a jar copied per test or benchmark run leaves one each).
   */
  void pruneOthers() {
    long cutoff = System.currentTimeMillis() - STALE_DAYS * 86_400_000L;
    try (java.nio.file.DirectoryStream<Path> others = Files.newDirectoryStream(dir.getParent(), "hooks-*")) {
      for (Path other : others) {
        if (!other.equals(dir) && Files.getLastModifiedTime(other).toMillis() < cutoff) {
          try (java.util.stream.Stream<Path> files = Files.walk(other)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("hook cache: cannot prune " + dir.getParent() + ": " + e);
    }
  }

  static byte[] entry(byte[] input, byte[] output) {
    int outLength = output == null ? -1 : output.length;
    ByteBuffer b = ByteBuffer.allocate(HEADER + Math.max(outLength, 0));
    b.putInt(MAGIC).putInt(FORMAT).putInt(input.length).putInt(crc(input)).putInt(outLength);
    b.putInt(output == null ? 0 : crc(output));
    if (output != null) {
      b.put(output);
    }
    return b.array();
  }
}
