package dev.mirrord.jvm.podagent.env;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.target.TargetFiles;
import java.util.Map;

/**
 * The environment of a target process, from {@code /proc/N/environ}, read as {@link TargetFiles}
 * reads it (the CLI reads a local target's the same way while its agent starts).
 */
public final class TargetEnv {
  private TargetEnv() {}

  /** Reads and parses the target's environ; blocking. Failures become wire errors. */
  public static RemoteResult<Map<String, String>> read(TargetProcess target) {
    return TargetFiles.environ(target.environ(), target.pid());
  }
}
