/**
 * The network-namespace lab: a fake cluster (pod, svc, dns, client namespaces joined by a bridge, 198.18.0.0/24) made
 * by {@code scripts/lab.sh}, wrapped as the {@link dev.mirrord.jvm.e2e.lab.NetnsLab} guard for tests.
 *
 * <p>{@code scripts/lab.sh} is the one definition of the topology; this package only runs it, parses its {@code
 * KEY=VALUE} output, starts processes inside the namespaces and checks that nothing is left behind.
 */
package dev.mirrord.jvm.e2e.lab;
