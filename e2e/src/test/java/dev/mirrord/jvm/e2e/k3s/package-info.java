/**
 * The Kubernetes path end to end on k3s (testcontainers): the agent image built from
 * mirrord-pod-agent/Dockerfile and imported into k3s's containerd, a sample pod, then {@code mirrord
 * exec --pod-name} through the real CLI jar. Needs a Docker engine; skipped with the reason without
 * one.
 */
package dev.mirrord.jvm.e2e.k3s;
