package dev.mirrord.jvm.podagent.dns;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The target's {@code /etc/resolv.conf} and {@code /etc/hosts} as bytes, for {@code
 * Target.ResolverFilesRequest}: the CLI hands them to the app's own resolvers (Netty's, JNDI's,
 * dnsjava's), which read those files themselves. Read through {@code /proc/<pid>/root}, so they are
 * the target's files even when the agent runs in the node's mount namespace (a Kubernetes Job).
 * Each file is answered on its own; none is ever larger than {@link
 * Target#MAX_RESOLVER_FILE_BYTES}.
 */
public final class ResolverFilesReader {
  private ResolverFilesReader() {}

  /** Reads both files (blocking). */
  public static Target.ResolverFiles read(long requestId, TargetProcess target) {
    return new Target.ResolverFiles(requestId, readOne(target.resolvConf()), readOne(target.hosts()));
  }

  /** One file's bytes, or the reason it cannot be had as a wire error. */
  static RemoteResult<Payload> readOne(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(Target.MAX_RESOLVER_FILE_BYTES + 1);
      if (bytes.length > Target.MAX_RESOLVER_FILE_BYTES) {
        return RemoteResult.err(
            new ResponseError.RemoteIo(
                Target.EFBIG,
                file + " is larger than " + Target.MAX_RESOLVER_FILE_BYTES / 1024 + " KiB"));
      }
      return RemoteResult.ok(Payload.wrap(bytes));
    } catch (NoSuchFileException e) {
      return RemoteResult.err(new ResponseError.NotFound(file.toString()));
    } catch (AccessDeniedException e) {
      return RemoteResult.err(
          new ResponseError.Forbidden("cannot read " + file + ": permission denied"));
    } catch (IOException e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "cannot read " + file + ": " + e));
    }
  }
}
