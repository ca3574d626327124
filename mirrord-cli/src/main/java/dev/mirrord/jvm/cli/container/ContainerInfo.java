package dev.mirrord.jvm.cli.container;

/**
 * What {@code <runtime> container inspect} says about a container.
 *
 * @param id the full 64-hex-digit ID
 * @param name without Docker's leading {@code /}
 * @param pid its first process on this host (0 when it is not running)
 * @param status {@code running}, {@code exited}, {@code created}, {@code paused}…
 */
public record ContainerInfo(ContainerRuntime runtime, String id, String name, int pid, String status) {

  public boolean isRunning() {
    return status.equals("running") && pid > 0;
  }

  /** {@code podman://<id>}: what the agent's {@code --container-id} takes. */
  public String containerId() {
    return runtime.name() + "://" + id;
  }
}
