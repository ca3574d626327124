/**
 * The pod agent process: {@link dev.mirrord.jvm.podagent.PodAgentCommand} (command line and
 * start-up checks), {@link dev.mirrord.jvm.podagent.AgentServer} (the listening socket, one {@link
 * dev.mirrord.jvm.podagent.session.ClientSession} per connection) and {@link
 * dev.mirrord.jvm.podagent.AgentLifecycle} (when to exit, and the one registry of clean-up
 * actions).
 *
 * <p>The agent is started by the CLI inside the target's network namespace ({@code nsenter
 * --net=/proc/N/ns/net}). Its stdout carries exactly one line, {@code MIRRORD_AGENT_READY
 * <address>}; logs go to a file or stderr.
 */
package dev.mirrord.jvm.podagent;
