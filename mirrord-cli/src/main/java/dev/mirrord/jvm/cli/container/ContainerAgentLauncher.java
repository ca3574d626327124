package dev.mirrord.jvm.cli.container;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.AgentRequest;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import dev.mirrord.jvm.cli.launch.RunningAgent;
import dev.mirrord.jvm.protocol.relay.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --target container/NAME}: resolves a podman or Docker container to its first process
 * ({@link LocalContainers}) and starts the pod agent against it, in one of two ways:
 *
 * <ul>
 *   <li>as a local process (default): exactly the {@code pid/N} launcher ({@code nsenter
 *       --net=/proc/PID/ns/net … java -cp mirrord-pod-agent.jar … --target-pid PID});
 *   <li>as a container of the agent image ({@code --agent-container}, {@code agent.container}), the
 *       way the Kubernetes Job runs it: given only the container's ID, privileged, in the host's PID
 *       namespace, it finds the target through the runtime's cgroups and enters its network
 *       namespace itself:
 *       <pre>
 *   [setsid] podman run --rm -i --name mirrord-agent-&lt;session&gt; --pull=never --privileged --pid=host
 *       --network=none --label dev.mirrord.jvm.session=&lt;session&gt; [--ulimit nofile=H:H --ulimit nproc=4096:4096]
 *       -e MIRRORD_AGENT_TOKEN -v &lt;session dir&gt;:&lt;session dir&gt; -v &lt;agent log&gt;:&lt;agent log&gt;
 *       &lt;image&gt; --container-id podman://&lt;id&gt; --listen unix:&lt;session dir&gt;/agent.sock …
 * </pre>
 *       It listens on the session's unix socket (a bind mount: no port, no network for the agent
 *       container). Its stdin is the CLI's pipe through {@code run -i}: when the CLI exits, even by
 *       {@code kill -9}, the agent reads EOF, removes its rules and exits, and {@code --rm} removes
 *       the container; closing the session also runs {@code rm -f} on it.
 * </ul>
 */
public final class ContainerAgentLauncher implements AgentLauncher {
  private static final Logger logger = LoggerFactory.getLogger(ContainerAgentLauncher.class);

  /** The agent container's label; its value is the session id. */
  public static final String SESSION_LABEL = "dev.mirrord.jvm.session";

  /** How the agent runs. */
  public record Settings(boolean agentContainer, String image, Duration readyTimeout) {
    public Settings {
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(readyTimeout, "readyTimeout");
    }
  }

  private final LocalContainers containers;
  private final Commands commands;
  private final Settings settings;
  private final BooleanSupplier isRoot;
  private final Function<TargetSpec.Pid, AgentLauncher> pidLauncher;
  private final UserNotices notices;
  private final long hardNofile;

  /**
   * @param pidLauncher the {@code pid/N} launcher, for the local-process mode
   * @param hardNofile this process's hard limit of open files (for podman's {@code --ulimit}), or
   *     -1 for none
   */
  public ContainerAgentLauncher(
      LocalContainers containers,
      Commands commands,
      Settings settings,
      BooleanSupplier isRoot,
      Function<TargetSpec.Pid, AgentLauncher> pidLauncher,
      UserNotices notices,
      long hardNofile) {
    this.containers = containers;
    this.commands = commands;
    this.settings = settings;
    this.isRoot = isRoot;
    this.pidLauncher = pidLauncher;
    this.notices = notices;
    this.hardNofile = hardNofile;
  }

  @Override
  public RunningAgent launch(AgentRequest request) {
    if (!(request.target() instanceof TargetSpec.Container(String name))) {
      throw new MirrordException(
          ExitCode.NOT_SUPPORTED_HERE, "the container launcher serves container/NAME targets, not " + request.target().describe());
    }
    long start = System.nanoTime();
    ContainerInfo c = containers.running(name);
    notices.info(
        "resolved container/" + name + ": " + c.runtime().name() + " container " + c.name() + " "
            + c.id().substring(0, 12) + ", pid " + c.pid() + " (" + seconds(start) + ")");
    boolean needsRoot = c.runtime().isPodman() || !settings.agentContainer();
    if (needsRoot && !isRoot.getAsBoolean()) {
      throw new MirrordException(
          ExitCode.NOT_PERMITTED,
          "--target container/" + name + " needs root to enter the container's network namespace"
              + (settings.agentContainer() ? " (a privileged agent container)" : "") + "; run with sudo");
    }
    if (!settings.agentContainer()) {
      TargetSpec.Pid pid = new TargetSpec.Pid(c.pid());
      return pidLauncher.apply(pid).launch(request.withTarget(pid));
    }
    checkImage(c.runtime());
    String agentName = agentContainerName(request);
    try {
      Files.createDirectories(request.logFile().toAbsolutePath().getParent());
      if (!Files.exists(request.logFile())) {
        Files.createFile(request.logFile()); // a bind mount needs it to exist
      }
    } catch (IOException e) {
      throw new MirrordException(
          ExitCode.CONFIG, "cannot create the agent log " + request.logFile() + " (" + e.getMessage() + "); fix --log-file");
    }
    List<String> command = runCommand(c, request, agentName);
    logger.info("starting agent container: {}", String.join(" ", command));
    long launched = System.nanoTime();
    RunningAgent agent =
        LocalAgentLauncher.start(
            command,
            request,
            "agent container " + agentName + " (" + c.runtime().name() + " pid %d) for container/" + name,
            settings.readyTimeout(),
            () -> remove(c.runtime(), agentName));
    notices.info("agent container " + agentName + " ready (" + seconds(launched) + ")");
    return agent;
  }

  /** The {@code run} command line, up to and including the agent's arguments. */
  List<String> runCommand(ContainerInfo target, AgentRequest request, String agentName) {
    ContainerRuntime rt = target.runtime();
    Path sessionDir = request.socketPath().toAbsolutePath().getParent();
    Path log = request.logFile().toAbsolutePath();
    List<String> cmd = new ArrayList<>();
    Path setsid = LocalAgentLauncher.which("setsid", "");
    if (setsid != null) {
      cmd.add(setsid.toString()); // the terminal's Ctrl-C goes to the CLI, which decides when the agent stops
    }
    cmd.addAll(
        List.of(
            rt.executable().toString(), "run", "--rm", "-i", "--name", agentName, "--pull=never",
            "--privileged", "--pid=host", "--network=none", "--label", SESSION_LABEL + "=" + sessionOf(request)));
    if (rt.isPodman() && hardNofile > 0) {
      // podman (no daemon) starts the container with its own limits: runc fails on setrlimit when its
      // defaults exceed this process's hard limits
      cmd.addAll(List.of("--ulimit", "nofile=" + hardNofile + ":" + hardNofile, "--ulimit", "nproc=4096:4096"));
    }
    cmd.addAll(List.of("-e", LocalAgentLauncher.TOKEN_ENV));
    if (Transport.requested() != null) {
      cmd.addAll(List.of("-e", Transport.ENV + "=" + Transport.requested()));
    }
    cmd.addAll(List.of("-v", sessionDir + ":" + sessionDir, "-v", log + ":" + log, settings.image()));
    cmd.addAll(List.of("--container-id", target.containerId()));
    cmd.addAll(LocalAgentLauncher.agentArgs(request));
    return cmd;
  }

  private void checkImage(ContainerRuntime rt) {
    Commands.Result r = exec(rt, List.of("image", "inspect", "--format", "{{.Id}}", settings.image()));
    if (r == null || r.exitCode() != 0) {
      throw new MirrordException(
          ExitCode.AGENT_FAILED,
          "the agent image " + settings.image() + " is not in " + rt.name() + "'s image store; build it with"
              + " scripts/image.sh (or pull it, or set agent.image)");
    }
  }

  private void remove(ContainerRuntime rt, String agentName) {
    List<String> rm = new ArrayList<>(List.of("rm", "-f"));
    if (rt.isPodman()) {
      rm.addAll(List.of("-t", "0", "--ignore"));
    }
    rm.add(agentName);
    Commands.Result r = exec(rt, rm);
    logger.info("{} rm {}: {}", rt.name(), agentName, r == null ? "failed" : "exit " + r.exitCode());
  }

  private Commands.Result exec(ContainerRuntime rt, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(rt.executable().toString());
    cmd.addAll(args);
    try {
      return commands.run(cmd, Duration.ofSeconds(30));
    } catch (IOException e) {
      logger.warn("{}: {}", String.join(" ", cmd), e.toString());
      return null;
    }
  }

  static String agentContainerName(AgentRequest request) {
    return "mirrord-agent-" + sessionOf(request).replaceAll("[^a-zA-Z0-9_.-]", "");
  }

  private static String sessionOf(AgentRequest request) {
    String dir = String.valueOf(request.socketPath().toAbsolutePath().getParent().getFileName());
    return dir.startsWith("mirrord-") ? dir.substring("mirrord-".length()) : dir;
  }

  /** The hard limit of open files in a {@code /proc/<pid>/limits} text, or -1. */
  public static long hardNofile(String limits) {
    for (String line : limits.split("\n")) {
      if (line.startsWith("Max open files")) {
        String[] f = line.substring("Max open files".length()).trim().split("\\s+");
        try {
          return Long.parseLong(f[1]);
        } catch (RuntimeException e) {
          return -1; // unlimited
        }
      }
    }
    return -1;
  }

  private static String seconds(long startNanos) {
    return String.format(java.util.Locale.ROOT, "%.1f s", (System.nanoTime() - startNanos) / 1e9);
  }
}
