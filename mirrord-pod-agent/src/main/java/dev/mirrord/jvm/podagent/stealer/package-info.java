/**
 * Steal mode: new TCP connections to a subscribed target port are redirected (through a {@link
 * dev.mirrord.jvm.podagent.iptables.PortRedirector}) to a listener of the agent's and relayed to
 * the subscribed client, which answers the real client. {@link
 * dev.mirrord.jvm.podagent.stealer.TcpStealer} is the one shared task per agent; each client
 * session talks to it through a {@link dev.mirrord.jvm.podagent.stealer.StealClient}.
 */
package dev.mirrord.jvm.podagent.stealer;
