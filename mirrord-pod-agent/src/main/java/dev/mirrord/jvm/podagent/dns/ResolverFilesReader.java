package dev.mirrord.jvm.podagent.dns;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.target.TargetFiles;

/**
 * The target's {@code /etc/resolv.conf} and {@code /etc/hosts} as bytes, for {@code
 * Target.ResolverFilesRequest}: the CLI hands them to the app's own resolvers (Netty's, JNDI's,
 * dnsjava's), which read those files themselves. Read through {@code /proc/<pid>/root}, so they are
 * the target's files even when the agent runs in the node's mount namespace (a Kubernetes Job).
 * Each file is answered on its own; none is ever larger than {@link
 * Target#MAX_RESOLVER_FILE_BYTES} (see {@link TargetFiles#resolverFiles}).
 */
public final class ResolverFilesReader {
  private ResolverFilesReader() {}

  /** Reads both files (blocking). */
  public static Target.ResolverFiles read(long requestId, TargetProcess target) {
    return TargetFiles.resolverFiles(requestId, target.rootDir());
  }
}
