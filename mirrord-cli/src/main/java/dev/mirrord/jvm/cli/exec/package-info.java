/**
 * Starting the user's command: {@link dev.mirrord.jvm.cli.exec.JvmLauncher} (command, environment,
 * {@code JAVA_TOOL_OPTIONS} with the layer's {@code -javaagent}, JVM detection), {@link
 * dev.mirrord.jvm.cli.exec.EnvFilter} (which target variables are imported), {@link
 * dev.mirrord.jvm.cli.exec.SessionDir} (the session's private dir and 0600 session file) and {@link
 * dev.mirrord.jvm.cli.exec.ChildProcess} (waiting, signal forwarding, clean-up of the tree).
 */
package dev.mirrord.jvm.cli.exec;
