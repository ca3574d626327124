package dev.mirrord.jvm.podagent.iptables;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of one agent's chains: {@code MIRRORD_IN_<pid>_<tag>} and {@code MIRRORD_OUT_<pid>_<tag>}.
 * The pid is the agent's, so a chain whose pid is dead (or no longer a mirrord agent) is a leftover.
 * Chain names stay under the 28-character limit of iptables.
 */
public record ChainNames(long agentPid, String tag) {
  public static final String PREFIX = "MIRRORD_";
  private static final Pattern CHAIN = Pattern.compile("MIRRORD_(IN|OUT)_(\\d{1,10})_([0-9a-f]{4})");

  public ChainNames {
    if (!tag.matches("[0-9a-f]{4}")) {
      throw new IllegalArgumentException("tag must be 4 hex digits: " + tag);
    }
  }

  public static ChainNames forAgent(long pid, String sessionId) {
    String hex = Integer.toHexString(sessionId.hashCode() & 0xffff);
    return new ChainNames(pid, "0".repeat(4 - hex.length()) + hex);
  }

  /** Added to the agent's pid: the gid of its pass-through sockets (HTTP-filtered steal). */
  public static final long PASS_THROUGH_GID_BASE = 1_000_000_000L;

  /**
   * The gid (set as the fsgid while a socket is made) of this agent's pass-through sockets: the
   * OUTPUT chains of agents installed later let them through; see {@code NatRules.install}.
   */
  public int passThroughGid() {
    return (int) (PASS_THROUGH_GID_BASE + agentPid);
  }

  public String input() {
    return PREFIX + "IN_" + agentPid + "_" + tag;
  }

  public String output() {
    return PREFIX + "OUT_" + agentPid + "_" + tag;
  }

  /** The chain pair a chain name belongs to, if it is one of ours. */
  public static Optional<ChainNames> parse(String chain) {
    Matcher m = CHAIN.matcher(chain);
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new ChainNames(Long.parseLong(m.group(2)), m.group(3)));
  }
}
