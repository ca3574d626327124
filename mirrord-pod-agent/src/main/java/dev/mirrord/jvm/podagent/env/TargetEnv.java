package dev.mirrord.jvm.podagent.env;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The environment of a target process, from {@code /proc/N/environ}.
 *
 * <pre>
 * environ = entry NUL entry NUL ... [entry]      (the trailing NUL may be missing)
 * entry   = KEY '=' VALUE                          (VALUE may be empty or contain '=')
 * </pre>
 *
 * An entry without {@code '='} or with an empty key is skipped; when a key repeats, the first one
 * wins (as {@code getenv(3)} does). Bytes are decoded as UTF-8, malformed input replaced.
 */
public final class TargetEnv {
  private TargetEnv() {}

  /** Reads and parses the target's environ; blocking. Failures become wire errors. */
  public static RemoteResult<Map<String, String>> read(TargetProcess target) {
    try {
      return RemoteResult.ok(parse(TargetProcess.readProcFile(target.environ())));
    } catch (NoSuchFileException e) {
      return RemoteResult.err(
          new ResponseError.NotFound(
              target.environ() + " (target pid " + target.pid() + " is gone)"));
    } catch (AccessDeniedException e) {
      return RemoteResult.err(
          new ResponseError.Forbidden(
              "cannot read " + target.environ() + ": permission denied; run the agent as root"));
    } catch (FileSystemException e) {
      if ("No such process".equals(e.getReason())) {
        // ESRCH: the process exited between open and read, or is a kernel thread.
        return RemoteResult.err(
            new ResponseError.NotFound(
                target.environ() + " (target pid " + target.pid() + " has no user space)"));
      }
      return RemoteResult.err(
          new ResponseError.RemoteIo(0, "cannot read " + target.environ() + ": " + e.getMessage()));
    } catch (IOException e) {
      return RemoteResult.err(
          new ResponseError.RemoteIo(0, "cannot read " + target.environ() + ": " + e.getMessage()));
    }
  }

  /** Parses the raw bytes of an environ file. */
  public static Map<String, String> parse(byte[] environ) {
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
}
