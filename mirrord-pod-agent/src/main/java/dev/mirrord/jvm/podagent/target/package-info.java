/**
 * Facts about the target and the namespace the agent serves from: {@link
 * dev.mirrord.jvm.podagent.target.TargetProcess} names the target's files under {@code /proc/N}
 * (environ, and its view of {@code /etc}: resolv.conf, hosts, hostname); {@link
 * dev.mirrord.jvm.podagent.target.AgentNetns} describes the network namespace the agent process
 * itself is in; {@link dev.mirrord.jvm.podagent.target.ContainerPidFinder} turns a Kubernetes
 * container ID ({@link dev.mirrord.jvm.podagent.target.ContainerId}) into the PID of the
 * container's init through the cgroup files under {@code /proc}. All of it is blocking file I/O: call it off the
 * Netty event loops.
 */
package dev.mirrord.jvm.podagent.target;
