package dev.mirrord.jvm.protocol;

import java.util.List;
import java.util.Map;

/** Target family: facts about the process/pod the agent serves. */
public final class Target {
  private Target() {}

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
}
