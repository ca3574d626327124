/** The one relay of a TCP socket over a protocol connection, shared by the agent and the CLI. */
package dev.mirrord.jvm.protocol.relay;
