package dev.mirrord.jvm.protocol.target;

import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A target's environment ({@code /proc/N/environ}) and resolver files ({@code /proc/N/root/etc/…}),
 * read into what the protocol carries: failures become wire errors, so an agent's answer and the
 * CLI's own read of a local target are the same thing.
 */
public final class TargetFiles {
  private TargetFiles() {}

  /**
   * Reads and parses {@code environ}, the environ file of process {@code pid}; blocking.
   *
   * <pre>
   * environ = entry NUL entry NUL ... [entry]      (the trailing NUL may be missing)
   * entry   = KEY '=' VALUE                          (VALUE may be empty or contain '=')
   * </pre>
   */
  public static RemoteResult<Map<String, String>> environ(Path environ, int pid) {
    try {
      byte[] bytes;
      try (InputStream in = Files.newInputStream(environ)) {
        bytes = in.readAllBytes();
      }
      return RemoteResult.ok(parseEnviron(bytes));
    } catch (NoSuchFileException e) {
      return RemoteResult.err(new ResponseError.NotFound(environ + " (target pid " + pid + " is gone)"));
    } catch (AccessDeniedException e) {
      return RemoteResult.err(
          new ResponseError.Forbidden("cannot read " + environ + ": permission denied; run the agent as root"));
    } catch (FileSystemException e) {
      if ("No such process".equals(e.getReason())) {
        // ESRCH: the process exited between open and read, or is a kernel thread.
        return RemoteResult.err(
            new ResponseError.NotFound(environ + " (target pid " + pid + " has no user space)"));
      }
      return RemoteResult.err(new ResponseError.RemoteIo(0, "cannot read " + environ + ": " + e.getMessage()));
    } catch (IOException e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "cannot read " + environ + ": " + e.getMessage()));
    }
  }

  /**
   * Parses the raw bytes of an environ file. An entry without {@code '='} or with an empty key is
   * skipped; when a key repeats, the first one wins (as {@code getenv(3)} does). Bytes are decoded
   * as UTF-8, malformed input replaced.
   */
  public static Map<String, String> parseEnviron(byte[] environ) {
    Map<String, String> env = new LinkedHashMap<>();
    int start = 0;
    while (start < environ.length) {
      int end = start;
      while (end < environ.length && environ[end] != 0) {
        end++;
      }
      if (end > start) {
        String entry = new String(environ, start, end - start, StandardCharsets.UTF_8);
        int eq = entry.indexOf('=');
        if (eq > 0) {
          env.putIfAbsent(entry.substring(0, eq), entry.substring(eq + 1));
        }
      }
      start = end + 1;
    }
    return Collections.unmodifiableMap(env);
  }

  /**
   * The target's {@code etc/resolv.conf} and {@code etc/hosts} under {@code rootDir} (its {@code
   * /proc/N/root}, so they are the target's files whatever mount namespace the reader is in), each
   * answered on its own; blocking.
   */
  public static Target.ResolverFiles resolverFiles(long requestId, Path rootDir) {
    return new Target.ResolverFiles(
        requestId,
        resolverFile(rootDir.resolve("etc/resolv.conf")),
        resolverFile(rootDir.resolve("etc/hosts")));
  }

  /** One file's bytes, never more than {@link Target#MAX_RESOLVER_FILE_BYTES}, or why not as a wire error. */
  public static RemoteResult<Payload> resolverFile(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(Target.MAX_RESOLVER_FILE_BYTES + 1);
      if (bytes.length > Target.MAX_RESOLVER_FILE_BYTES) {
        return RemoteResult.err(
            new ResponseError.RemoteIo(
                Target.EFBIG, file + " is larger than " + Target.MAX_RESOLVER_FILE_BYTES / 1024 + " KiB"));
      }
      return RemoteResult.ok(Payload.wrap(bytes));
    } catch (NoSuchFileException e) {
      return RemoteResult.err(new ResponseError.NotFound(file.toString()));
    } catch (AccessDeniedException e) {
      return RemoteResult.err(new ResponseError.Forbidden("cannot read " + file + ": permission denied"));
    } catch (IOException e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "cannot read " + file + ": " + e));
    }
  }
}
