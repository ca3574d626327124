/**
 * The shared incoming-traffic tasks of one agent: the {@code TcpStealer} (steal mode) and the
 * {@code TcpSniffer} (mirror mode), each created on first use and cleaned up with the agent.
 */
package dev.mirrord.jvm.podagent.incoming;
