package dev.mirrord.jvm.podagent.iptables;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the agent's chains go away even if the agent is killed with SIGKILL: a tiny watchdog
 * shell, started in the same network namespace in its own session, blocks reading a pipe from the
 * agent; when the agent dies for any reason the pipe closes and the watchdog deletes the chains
 * (each command may fail harmlessly if the agent already removed them). On a normal exit the agent
 * removes the chains itself first, then closes the pipe. Inside a container the watchdog also
 * leaves the container's cgroups ({@link WatchdogCgroup}), so that killing the container does not
 * kill it with the agent.
 */
public final class IpTablesGuard implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(IpTablesGuard.class);

  private final Process watchdog;
  private final OutputStream lifeline;

  private IpTablesGuard(Process watchdog) {
    this.watchdog = watchdog;
    this.lifeline = watchdog.getOutputStream();
  }

  /** Starts the watchdog for {@code chains} in every family. */
  public static IpTablesGuard start(List<IpTables> families, ChainNames chains) throws IOException {
    StringBuilder script = new StringBuilder("trap '' INT TERM HUP\nwhile read -r _; do :; done\n");
    for (IpTables ipt : families) {
      script.append(ipt.shellCleanup(chains));
    }
    Process p = new ProcessBuilder("setsid", "sh", "-c", script.toString())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    logger.debug("iptables watchdog pid {} guards {}", p.pid(), chains);
    if (WatchdogCgroup.inContainer()) {
      WatchdogCgroup.escape(p.pid());
    }
    return new IpTablesGuard(p);
  }

  public long watchdogPid() {
    return watchdog.pid();
  }

  /** Lets the watchdog run its (by now harmless) clean-up and exit. */
  @Override
  public void close() {
    try {
      lifeline.close();
    } catch (IOException e) {
      logger.debug("closing watchdog pipe: {}", e.getMessage());
    }
  }
}
