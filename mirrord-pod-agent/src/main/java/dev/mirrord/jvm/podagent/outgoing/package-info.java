/**
 * Outgoing traffic: the app's TCP connects and connected UDP sockets, made by the agent from inside
 * the target's network namespace, and DNS queries the app sends itself, sent to the target's name
 * server. See {@link dev.mirrord.jvm.podagent.outgoing.OutgoingApi}.
 */
package dev.mirrord.jvm.podagent.outgoing;
