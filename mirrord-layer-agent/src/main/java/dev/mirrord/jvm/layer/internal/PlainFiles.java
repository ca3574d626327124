package dev.mirrord.jvm.layer.internal;

import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * File reads for the layer's start, through {@code java.io}. {@code Files.newInputStream} and
 * {@code Files.readAllBytes} wrap a channel in a stream that checks for a {@code SocketChannelImpl},
 * which loads that class: before the hooks are in, or inside a transformation (where the JVM calls no
 * transformer), the hooks then have to retransform it instead of hooking it as it loads (~4 ms of
 * the app's start).
 */
public final class PlainFiles {
  private PlainFiles() {}

  /**
   * The whole of {@code file}, as {@code Files.readAllBytes} gives it: a missing file is a {@link
   * NoSuchFileException}, any other failure an {@link IOException} that says why.
   */
  public static byte[] readAllBytes(Path file) throws IOException {
    try (InputStream in = new FileInputStream(file.toFile())) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      if (Files.exists(file)) {
        throw e; // "(Permission denied)", "(Is a directory)"
      }
      NoSuchFileException missing = new NoSuchFileException(file.toString());
      missing.initCause(e);
      throw missing;
    }
  }
}
