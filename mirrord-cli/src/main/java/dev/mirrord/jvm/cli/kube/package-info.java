/**
 * Everything that talks to Kubernetes (the only package allowed to import {@code io.fabric8}):
 * {@link dev.mirrord.jvm.cli.kube.KubeClientFactory} (kubeconfig like kubectl), {@link
 * dev.mirrord.jvm.cli.kube.KubeTargets} (pod/deployment/statefulset → pod + container), the pure
 * spec factories {@link dev.mirrord.jvm.cli.kube.AgentJobFactory} and {@link
 * dev.mirrord.jvm.cli.kube.EphemeralAgentFactory}, {@link dev.mirrord.jvm.cli.kube.KubeCalls}
 * (API failures → one line and an exit code) and {@link
 * dev.mirrord.jvm.cli.kube.KubernetesAgentLauncher} (agent placement, readiness, port-forward,
 * clean-up).
 */
package dev.mirrord.jvm.cli.kube;
