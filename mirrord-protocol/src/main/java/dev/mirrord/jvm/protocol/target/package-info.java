/**
 * What the target process's {@code /proc/N} says about it, read the same way wherever it is read: by
 * the pod agent for {@code Target.EnvRequest} and {@code Target.ResolverFilesRequest}, and by the CLI
 * itself for a {@code pid/N} target on its own host while the agent is still starting. Never used
 * by the layer.
 */
package dev.mirrord.jvm.protocol.target;
