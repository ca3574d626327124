package dev.mirrord.jvm.cli.container;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A container runtime's command-line client: {@code podman} or {@code docker} (the CLI of the
 * runtime, found on PATH). Both take the same {@code inspect}, {@code ps}, {@code run}, {@code rm}.
 *
 * @param name {@code podman} or {@code docker}: the flags that differ, and the container ID's
 *     {@code <runtime>://} prefix
 */
public record ContainerRuntime(String name, Path executable) {

  /** Picks the runtime: {@code podman}, {@code docker}, or a path to either. */
  public static final String RUNTIME_ENV = "MIRRORD_CONTAINER_RUNTIME";

  public boolean isPodman() {
    return name.equals("podman");
  }

  /**
   * The runtimes on this machine, podman first: {@value #RUNTIME_ENV} if set ({@code none}: no
   * runtime), else whichever of {@code podman} and {@code docker} is on PATH.
   *
   * @throws MirrordException INSTALLATION if {@value #RUNTIME_ENV} names nothing runnable
   */
  public static List<ContainerRuntime> detect(Map<String, String> env) {
    String path = env.getOrDefault("PATH", "");
    String chosen = env.get(RUNTIME_ENV);
    if ("none".equals(chosen)) {
      return List.of();
    }
    if (chosen != null && !chosen.isBlank()) {
      Path exe = chosen.contains("/") ? Path.of(chosen) : LocalAgentLauncher.which(chosen, path);
      if (exe == null || !Files.isExecutable(exe)) {
        throw new MirrordException(
            ExitCode.INSTALLATION,
            RUNTIME_ENV + "=" + chosen + " is not an executable podman or docker; fix or unset it");
      }
      String base = exe.getFileName().toString();
      return List.of(new ContainerRuntime(base.contains("docker") ? "docker" : "podman", exe));
    }
    List<ContainerRuntime> found = new ArrayList<>();
    for (String name : List.of("podman", "docker")) {
      Path exe = onPath(name, path);
      if (exe != null) {
        found.add(new ContainerRuntime(name, exe));
      }
    }
    return List.copyOf(found);
  }

  /** {@code name} in a directory of {@code path} (only there: an environment without PATH has no runtime). */
  private static Path onPath(String name, String path) {
    for (String dir : path.split(":")) {
      if (!dir.isBlank()) {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return name;
  }
}
