/**
 * Local containers as targets ({@code --target container/NAME}): which runtime CLI is there (podman
 * or Docker, {@link dev.mirrord.jvm.cli.container.ContainerRuntime}), what a container is ({@link
 * dev.mirrord.jvm.cli.container.LocalContainers}: {@code inspect}, {@code ps}), and the launcher that
 * runs the pod agent against it, as a local process under nsenter or as a container of the agent
 * image ({@link dev.mirrord.jvm.cli.container.ContainerAgentLauncher}).
 */
package dev.mirrord.jvm.cli.container;
