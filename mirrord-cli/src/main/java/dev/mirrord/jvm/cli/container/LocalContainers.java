package dev.mirrord.jvm.cli.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.kube.CloseNames;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The containers of this machine's runtimes (podman first, then Docker), through their CLIs: {@code
 * container inspect} for one target, {@code ps} for {@code mirrord ls}. Every failure is one
 * {@link MirrordException} line that names the fix.
 */
public final class LocalContainers {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final List<ContainerRuntime> runtimes;
  private final Commands commands;

  public LocalContainers(List<ContainerRuntime> runtimes, Commands commands) {
    this.runtimes = List.copyOf(runtimes);
    this.commands = commands;
  }

  public List<ContainerRuntime> runtimes() {
    return runtimes;
  }

  /**
   * The container named (or with an ID starting with) {@code nameOrId}, running.
   *
   * @throws MirrordException INSTALLATION without a runtime, TARGET_NOT_FOUND if no runtime knows it
   *     (with the closest names) or it is not running, NOT_PERMITTED if the runtime refuses us
   */
  public ContainerInfo running(String nameOrId) {
    if (runtimes.isEmpty()) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "--target container/" + nameOrId + " needs podman or docker, and neither is on PATH; install one (apt-get"
              + " install podman) or set " + ContainerRuntime.RUNTIME_ENV + "=<path to podman or docker>");
    }
    List<ContainerRuntime> answered = new ArrayList<>();
    List<MirrordException> failures = new ArrayList<>();
    for (ContainerRuntime rt : runtimes) {
      ContainerInfo info;
      try {
        info = inspect(rt, nameOrId);
      } catch (MirrordException e) {
        failures.add(e); // e.g. a docker CLI without a daemon next to a working podman
        continue;
      }
      answered.add(rt);
      if (info != null) {
        if (!info.isRunning()) {
          throw new MirrordException(
              ExitCode.TARGET_NOT_FOUND,
              rt.name() + " container " + info.name() + " is " + info.status() + ", not running; start it ("
                  + rt.name() + " start " + info.name() + ") and try again");
        }
        return info;
      }
    }
    if (answered.isEmpty()) {
      throw failures.get(0);
    }
    List<String> names = new ArrayList<>();
    for (ContainerRuntime rt : answered) {
      names.addAll(names(rt, true));
    }
    List<String> close = CloseNames.closest(nameOrId, names, 3);
    String unasked =
        failures.isEmpty()
            ? ""
            : " (" + String.join("; ", failures.stream().map(MirrordException::getMessage).toList()) + ")";
    throw new MirrordException(
        ExitCode.TARGET_NOT_FOUND,
        "no container '" + nameOrId + "' in " + String.join(" or ", answered.stream().map(ContainerRuntime::name).toList())
            + unasked
            + (close.isEmpty()
                ? "; list them with mirrord ls"
                : "; did you mean " + String.join(", ", close.stream().map(n -> "container/" + n).toList()) + "?"));
  }

  /**
   * The running containers' names of every runtime that answers, as {@code container/NAME}, sorted
   * per runtime; {@code problems} gets one line per runtime that does not.
   */
  public List<String> targets(List<String> problems) {
    List<String> out = new ArrayList<>();
    for (ContainerRuntime rt : runtimes) {
      try {
        names(rt, false).stream().sorted().map(n -> "container/" + n).forEach(out::add);
      } catch (MirrordException e) {
        problems.add(e.getMessage());
      }
    }
    return out;
  }

  /** {@code inspect}: the container, or null if this runtime has none of that name. */
  ContainerInfo inspect(ContainerRuntime rt, String nameOrId) {
    Commands.Result r = run(rt, List.of("container", "inspect", nameOrId));
    if (r.exitCode() != 0) {
      String err = r.firstError();
      if (err.toLowerCase(Locale.ROOT).contains("no such")) {
        return null;
      }
      throw runtimeFailure(rt, err);
    }
    try {
      JsonNode all = JSON.readTree(r.stdout());
      JsonNode c = all.isArray() ? all.path(0) : all;
      String id = c.path("Id").asText("");
      String name = c.path("Name").asText("");
      if (name.startsWith("/")) {
        name = name.substring(1); // Docker
      }
      JsonNode state = c.path("State");
      String status = state.path("Status").asText(state.path("Running").asBoolean() ? "running" : "unknown");
      if (id.isEmpty()) {
        return null;
      }
      return new ContainerInfo(rt, id, name, state.path("Pid").asInt(0), status.toLowerCase(Locale.ROOT));
    } catch (IOException e) {
      throw new MirrordException(
          ExitCode.INTERNAL, rt.name() + " container inspect " + nameOrId + " printed no JSON (" + e.getMessage() + ")");
    }
  }

  private List<String> names(ContainerRuntime rt, boolean all) {
    List<String> cmd = new ArrayList<>(List.of("ps", "--format", "{{.Names}}"));
    if (all) {
      cmd.add(1, "-a");
    }
    Commands.Result r = run(rt, cmd);
    if (r.exitCode() != 0) {
      throw runtimeFailure(rt, r.firstError());
    }
    return r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  private Commands.Result run(ContainerRuntime rt, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(rt.executable().toString());
    cmd.addAll(args);
    try {
      return commands.run(cmd, TIMEOUT);
    } catch (IOException e) {
      throw new MirrordException(
          ExitCode.INSTALLATION, "cannot run " + rt.name() + " (" + e.getMessage() + "); check its installation");
    }
  }

  private static MirrordException runtimeFailure(ContainerRuntime rt, String error) {
    String e = error.toLowerCase(Locale.ROOT);
    if (e.contains("permission denied")) {
      return new MirrordException(
          ExitCode.NOT_PERMITTED,
          rt.name() + " refused: " + error + "; run mirrord as root (or join the docker group)");
    }
    if (e.contains("cannot connect") || e.contains("is the docker daemon running")) {
      return new MirrordException(
          ExitCode.INSTALLATION, rt.name() + " is not running: " + error + "; start its daemon and try again");
    }
    return new MirrordException(ExitCode.INSTALLATION, rt.name() + " failed: " + error + "; check that it works (" + rt.name() + " ps)");
  }
}
