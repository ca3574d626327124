package dev.mirrord.jvm.podagent;

import dev.mirrord.jvm.podagent.target.ContainerId;
import dev.mirrord.jvm.podagent.target.ContainerPidFinder;
import dev.mirrord.jvm.protocol.relay.Transport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --container-id}: the agent Job's entry. Finds the target container's PID on the node
 * ({@link ContainerPidFinder}; the Job runs with hostPID), then runs the agent again as
 *
 * <pre>
 *   nsenter --net=/proc/PID/ns/net --setgid=71 -- &lt;this java&gt; &lt;this JVM's options&gt;
 *       -cp &lt;this class path&gt; dev.mirrord.jvm.podagent.PodAgentMain --target-pid PID &lt;the other arguments&gt;
 * </pre>
 *
 * <p>The JVM options are this process's own, as its command line gave them (in the image: {@code
 * @/opt/mirrord/jvm.options}, see {@code mirrord-pod-agent/image/}): the agent that serves is the
 * child, so it gets the tuned flags, not the JVM's defaults.
 *
 * exactly as {@code LocalAgentLauncher} does for {@code pid/N} on a developer's machine, with stdin,
 * stdout (the ready line) and stderr inherited. This process waits for it, passes SIGTERM on (so
 * deleting the Job cleans up iptables rules), and exits with its code.
 */
final class NetnsReexec {
  private static final Logger logger = LoggerFactory.getLogger(NetnsReexec.class);

  /** The agent's group, exempted by its own iptables OUTPUT rules (as in the CLI's launcher). */
  static final int AGENT_GID = 71;

  private NetnsReexec() {}

  static int run(String containerIdText, List<String> originalArgs, Path procRoot)
      throws AgentException, InterruptedException {
    ContainerId id;
    try {
      id = ContainerId.parse(containerIdText);
    } catch (IllegalArgumentException e) {
      throw new AgentException(ExitCodes.USAGE, "bad --container-id: " + e.getMessage());
    }
    int pid =
        new ContainerPidFinder(procRoot)
            .find(id)
            .orElseThrow(
                () ->
                    new AgentException(
                        ExitCodes.TARGET_NOT_FOUND,
                        "no process of container "
                            + id
                            + " in "
                            + procRoot
                            + "; the agent must run on the target's node with hostPID: true"));
    List<String> command =
        command(
            pid,
            originalArgs,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            jvmOptions(ProcessHandle.current().info().arguments().map(List::of).orElse(List.of())),
            System.getProperty("java.class.path"));
    logger.info("container {} is pid {}; running {}", id, pid, String.join(" ", command));
    Process child;
    try {
      ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
      Transport.passOn(pb.environment());
      child = pb.start();
    } catch (IOException e) {
      throw new AgentException(
          ExitCodes.FAILURE, "cannot run nsenter (" + e.getMessage() + "); the agent image needs util-linux");
    }
    Thread forwardTerm =
        new Thread(
            () -> {
              child.destroy();
              try {
                child.waitFor(15, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "mirrord-agent-forward-term");
    Runtime.getRuntime().addShutdownHook(forwardTerm);
    int code = child.waitFor();
    try {
      Runtime.getRuntime().removeShutdownHook(forwardTerm);
    } catch (IllegalStateException e) {
      // shutting down
    }
    return code;
  }

  /** The nsenter command line; {@code --container-id X} (either form) becomes {@code --target-pid PID}. */
  static List<String> command(int pid, List<String> originalArgs, String java, String classPath) {
    return command(pid, originalArgs, java, List.of(), classPath);
  }

  static List<String> command(
      int pid, List<String> originalArgs, String java, List<String> jvmOptions, String classPath) {
    List<String> cmd =
        new ArrayList<>(List.of("nsenter", "--net=/proc/" + pid + "/ns/net", "--setgid=" + AGENT_GID, "--", java));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", classPath, PodAgentMain.class.getName(), "--target-pid", Integer.toString(pid)));
    for (int i = 0; i < originalArgs.size(); i++) {
      String a = originalArgs.get(i);
      if (a.equals("--container-id")) {
        i++;
      } else if (!a.startsWith("--container-id=")) {
        cmd.add(a);
      }
    }
    return List.copyOf(cmd);
  }

  /**
   * The JVM options of a {@code java} command line's arguments (without {@code argv[0]}): everything
   * before the class path, {@code -jar} or the main class ({@code -X…}, {@code -D…}, {@code @argfile}).
   */
  static List<String> jvmOptions(List<String> arguments) {
    List<String> options = new ArrayList<>();
    for (String a : arguments) {
      if (a.equals("-jar") || a.equals("-cp") || a.equals("-classpath") || a.equals("--class-path")
          || a.startsWith("--class-path=") || a.equals("-m") || a.equals("--module")
          || !(a.startsWith("-") || a.startsWith("@"))) {
        break;
      }
      options.add(a);
    }
    return List.copyOf(options);
  }
}
