package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's identity and private directory {@code <tmpdir>/mirrord-<id>/} (mode 0700): the
 * session file the layer reads, the agent's unix socket. {@link #close()} removes it all.
 *
 * <p>A CLI killed with {@code kill -9} cannot remove its directory, so each one holds a lock on its {@value
 * #OWNER_LOCK} for as long as it lives (the kernel drops it with the process), and {@link #sweepSiblings()} — run by
 * every later session — removes the directories whose lock is free.
 */
public final class SessionDir implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(SessionDir.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** The file each session's CLI holds a lock on while it lives. */
  static final String OWNER_LOCK = "owner.lock";
  private static final Pattern SESSION_DIR_NAME = Pattern.compile("mirrord-[0-9a-f]{8}");
  /** A session's log files in the temporary directory: the CLI's, the agent's and the layers'. */
  private static final Pattern SESSION_LOG_NAME = Pattern.compile("mirrord-[0-9a-f]{8}(-agent|-layer)?\\.log");
  /**
   * The session logs the sweep leaves in the temporary directory: those written in the last week. Older ones go (a
   * developer runs dozens of sessions a day, three files each); a session still writing one keeps touching it.
   */
  static final Duration LOG_AGE = Duration.ofDays(7);
  /**
   * A directory without an owner lock is one being created this instant, or one of a CLI older than the lock: it is
   * removed once untouched for this long.
   */
  static final Duration UNLOCKED_AGE = Duration.ofDays(1);
  /**
   * This JVM's live session dirs: the sweep never opens their lock files, since closing any channel to a file drops
   * every POSIX lock the process holds on it.
   */
  private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

  private final String id;
  private final String token;
  private final Path dir;
  private final FileChannel ownerLock;

  private SessionDir(String id, String token, Path dir, FileChannel ownerLock) {
    this.id = id;
    this.token = token;
    this.dir = dir;
    this.ownerLock = ownerLock;
  }

  /** A fresh id (8 hex chars) and token (256 random bits). */
  public static String newId() {
    return HexFormat.of().formatHex(randomBytes(4));
  }

  /**
   * Creates {@code <tmpDir>/mirrord-<id>/}. A temp dir whose path has whitespace is replaced by
   * {@code /tmp}: the session file path travels inside {@code JAVA_TOOL_OPTIONS}.
   */
  public static SessionDir create(Path tmpDir, String id) {
    Path base = tmpDir.toString().matches(".*\\s.*") ? Path.of("/tmp") : tmpDir;
    String token = HexFormat.of().formatHex(randomBytes(32));
    Path dir = base.resolve("mirrord-" + id).toAbsolutePath();
    FileChannel lock;
    try {
      Files.createDirectories(base);
      Files.createDirectory(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      LIVE.add(dir);
      // locked under another name, then renamed: a sweeper never finds an owner lock that is free but not stale
      Path locking = dir.resolve(OWNER_LOCK + ".new");
      lock = FileChannel.open(locking, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      lock.lock();
      Files.move(locking, dir.resolve(OWNER_LOCK), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LIVE.remove(dir);
      throw new MirrordException(
          ExitCode.CONFIG,
          "cannot create the session directory " + dir + " (" + e + "); check that the temp dir is writable or set TMPDIR / -Djava.io.tmpdir");
    }
    return new SessionDir(id, token, dir, lock);
  }

  public String id() {
    return id;
  }

  /** Authenticates layers to the CLI and the CLI to the agent; never logged. */
  public String token() {
    return token;
  }

  public Path dir() {
    return dir;
  }

  /** The Properties file the layer reads ({@code -javaagent:<jar>=<this path>}). */
  public Path sessionFile() {
    return dir.resolve("session.properties");
  }

  /** Where the pid-target agent listens. */
  public Path agentSocket() {
    return dir.resolve("agent.sock");
  }

  /** Writes {@link #sessionFile()} with mode 0600. */
  public Path writeSessionFile(Properties properties) {
    Path file = sessionFile();
    try {
      Files.deleteIfExists(file);
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(
          file,
          PropertiesText.of(
              properties, "mirrord session " + id + " (read by the mirrord layer; removed when mirrord exits)"),
          StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write session file " + file, e);
    }
    return file;
  }

  /** Writes {@code bytes} to {@code <dir>/<name>} with mode 0600 (replacing any such file). */
  public Path writePrivateFile(String name, byte[] bytes) throws IOException {
    Path file = dir.resolve(name);
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(file, bytes, StandardOpenOption.TRUNCATE_EXISTING);
    return file;
  }

  /** Removes the directory and everything in it, then lets go of its owner lock; never throws. */
  @Override
  public void close() {
    try {
      if (Files.exists(dir)) {
        removeTree(dir);
      }
    } catch (IOException e) {
      logger.warn("could not remove session dir {}: {}", dir, e.toString());
    } finally {
      try {
        ownerLock.close();
      } catch (IOException e) {
        // the lock goes with the process anyway
      }
      LIVE.remove(dir);
    }
  }

  /**
   * Removes the session dirs next to this one that a dead CLI left behind ({@code kill -9}): those owned by this
   * user whose {@value #OWNER_LOCK} no process holds, and those without one untouched for {@link #UNLOCKED_AGE}; and
   * this user's session logs there ({@code mirrord-<id>.log}, {@code -agent.log}, {@code -layer.log}) last written
   * more than {@link #LOG_AGE} ago. Never follows a link; never throws.
   *
   * @return how many dirs and logs it removed
   */
  public int sweepSiblings() {
    int removed = 0;
    try (DirectoryStream<Path> siblings = Files.newDirectoryStream(dir.getParent(), "mirrord-*")) {
      Object uid = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      Instant oldLogs = Instant.now().minus(LOG_AGE);
      for (Path d : siblings) {
        try {
          if (SESSION_LOG_NAME.matcher(d.getFileName().toString()).matches()) {
            if (removeIfOld(d, uid, oldLogs)) {
              removed++;
            }
            continue;
          }
          if (SESSION_DIR_NAME.matcher(d.getFileName().toString()).matches()
              && !LIVE.contains(d.toAbsolutePath())
              && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
              && uid.equals(Files.getAttribute(d, "unix:uid", LinkOption.NOFOLLOW_LINKS))
              && removeIfOwnerGone(d)) {
            removed++;
          }
        } catch (IOException e) {
          logger.debug("left {}: {}", d, e.toString()); // gone meanwhile, or not ours to read: the next one
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("sweeping stale session dirs next to {}: {}", dir, e.toString());
    }
    return removed;
  }

  /**
   * Removes the log file {@code f} (never a link) if {@code uid} owns it and it was last written before {@code before}.
   */
  private static boolean removeIfOld(Path f, Object uid, Instant before) throws IOException {
    BasicFileAttributes attrs = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attrs.isRegularFile()
        || !attrs.lastModifiedTime().toInstant().isBefore(before)
        || !uid.equals(Files.getAttribute(f, "unix:uid", LinkOption.NOFOLLOW_LINKS))) {
      return false;
    }
    return Files.deleteIfExists(f);
  }

  /** Removes {@code d} if no process holds its owner lock; false if one does, or if {@code d} could not be read. */
  private static boolean removeIfOwnerGone(Path d) throws IOException {
    Path lockFile = d.resolve(OWNER_LOCK);
    if (!Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
      FileTime touched = Files.getLastModifiedTime(d, LinkOption.NOFOLLOW_LINKS);
      if (touched.toInstant().isAfter(Instant.now().minus(UNLOCKED_AGE))) {
        return false;
      }
      removeTree(d);
      return true;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        FileLock held = channel.tryLock()) {
      if (held == null) {
        return false; // its CLI lives
      }
      removeTree(d); // holding the lock: a second sweeper finds it taken, or the file gone
      return true;
    } catch (NoSuchFileException | OverlappingFileLockException e) {
      return false; // another sweeper's, or this JVM's
    }
  }

  /** Deletes {@code root}'s files, then its directories (a link is deleted, never followed). */
  private static void removeTree(Path root) throws IOException {
    Path lock = root.resolve(OWNER_LOCK);
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            if (!file.equals(lock)) {
              Files.deleteIfExists(file);
            }
            return FileVisitResult.CONTINUE;
          }

          /** A file listed and gone before it was read: a dead CLI's agent removed its socket meanwhile. */
          @Override
          public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            if (exc instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw exc;
          }

          /**
           * The owner lock goes last, just before its dir: a removal that fails half-way leaves the dir with its lock,
           * which the next sweep finds free (without it, sweeps keep the dir for {@link #UNLOCKED_AGE}).
           */
          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            if (d.equals(root)) {
              Files.deleteIfExists(lock);
            }
            Files.deleteIfExists(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
