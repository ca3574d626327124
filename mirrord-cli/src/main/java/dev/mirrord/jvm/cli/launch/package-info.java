/**
 * Starting the pod agent: {@link dev.mirrord.jvm.cli.launch.AgentLauncher} and, for {@code
 * pid/N} targets, {@link dev.mirrord.jvm.cli.launch.LocalAgentLauncher} (nsenter into the target's
 * network namespace, token in the environment, stdin pipe as the liveness signal, bounded wait for
 * the {@code MIRRORD_AGENT_READY} line). Kubernetes launchers will live next to it.
 */
package dev.mirrord.jvm.cli.launch;
