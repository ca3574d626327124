package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's identity and private directory {@code <tmpdir>/mirrord-<id>/} (mode 0700): the
 * session file the layer reads, the agent's unix socket. {@link #close()} removes it all.
 */
public final class SessionDir implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(SessionDir.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String id;
  private final String token;
  private final Path dir;

  private SessionDir(String id, String token, Path dir) {
    this.id = id;
    this.token = token;
    this.dir = dir;
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
    Path dir = base.resolve("mirrord-" + id);
    try {
      Files.createDirectories(base);
      Files.createDirectory(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new MirrordException(
          ExitCode.CONFIG,
          "cannot create the session directory " + dir + " (" + e + "); check that the temp dir is writable or set TMPDIR / -Djava.io.tmpdir");
    }
    return new SessionDir(id, token, dir);
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

  /** Removes the directory and everything in it; never throws. */
  @Override
  public void close() {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      logger.warn("could not remove session dir {}: {}", dir, e.toString());
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }
}
