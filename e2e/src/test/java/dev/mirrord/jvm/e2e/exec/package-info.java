/**
 * End-to-end tests of {@code mirrord exec --target pid/N}: the real {@code bin/mirrord} (CLI, layer and pod agent jars)
 * run as a child process against the pod of a {@link dev.mirrord.jvm.e2e.lab.NetnsLab}, with the test apps of {@link
 * dev.mirrord.jvm.e2e.apps} as the user's command. {@link dev.mirrord.jvm.e2e.exec.MirrordRun} starts and observes one
 * run; {@link dev.mirrord.jvm.e2e.exec.SessionChecks} asserts that a finished session left nothing behind.
 */
package dev.mirrord.jvm.e2e.exec;
