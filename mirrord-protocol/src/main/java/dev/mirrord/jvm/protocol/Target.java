package dev.mirrord.jvm.protocol;

import java.util.List;
import java.util.Map;

/** Target family: facts about the process/pod the agent serves. */
public final class Target {
  private Target() {}

  /**
   * The first protocol version with {@link ResolverFilesRequest}; the CLI checks the negotiated
   * version before sending it.
   */
  public static final ProtocolVersion RESOLVER_FILES_SINCE = new ProtocolVersion(1, 4);

  /**
   * The largest resolver file the agent sends ({@link ResolverFiles}): both fit in one frame. A
   * larger file is answered with {@link ResponseError.RemoteIo} ({@link #EFBIG}).
   */
  public static final int MAX_RESOLVER_FILE_BYTES = 256 * 1024;

  /** Linux's "file too large" errno, for a resolver file over {@link #MAX_RESOLVER_FILE_BYTES}. */
  public static final int EFBIG = 27;

  public record TargetInfoRequest(long requestId) implements ClientMessage {}

  /**
   * Where the agent runs: the target's pid as the agent sees it, the inode of the network
   * namespace the agent serves from (equal to {@code stat -L /proc/<pid>/ns/net}), the target's
   * host name and its non-loopback addresses.
   */
  public record TargetInfo(
      long requestId, int pid, long netnsInode, String hostname, List<String> addresses)
      implements AgentMessage {
    public TargetInfo {
      addresses = List.copyOf(addresses);
    }
  }

  public record EnvRequest(long requestId) implements ClientMessage {}

  /** The target's environment (its {@code /proc/<pid>/environ}), unfiltered. */
  public record EnvResponse(long requestId, RemoteResult<Map<String, String>> env)
      implements AgentMessage {}

  /**
   * Asks for the target's {@code /etc/resolv.conf} and {@code /etc/hosts} as the target itself sees
   * them (since {@link #RESOLVER_FILES_SINCE}): the CLI serves them to the app's own resolvers.
   */
  public record ResolverFilesRequest(long requestId) implements ClientMessage {}

  /**
   * The bytes of the target's {@code /etc/resolv.conf} and {@code /etc/hosts}, each on its own: a
   * file that is missing is {@link ResponseError.NotFound}, one the agent may not read {@link
   * ResponseError.Forbidden}, any other failure (or a file over {@link #MAX_RESOLVER_FILE_BYTES})
   * {@link ResponseError.RemoteIo}.
   */
  public record ResolverFiles(
      long requestId, RemoteResult<Payload> resolvConf, RemoteResult<Payload> hosts)
      implements AgentMessage {
    public ResolverFiles {
      java.util.Objects.requireNonNull(resolvConf, "resolvConf");
      java.util.Objects.requireNonNull(hosts, "hosts");
    }
  }
}
