package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;

/**
 * Where the CLI tells a layer which client a loopback source port of its dial stands for ({@code
 * Tcp.IncomingPeer} and its {@code forget}): a connection the layer reads as soon as something
 * arrives ({@link LayerConnectionHandler}), or, for a subscription its JVM made on its start
 * connection, that JVM's main connection once it is up ({@link IncomingProxy}).
 */
interface LayerPeers {
  /** Writes {@code message}, then runs {@code then} (whether or not the write succeeded). */
  void deliver(AgentMessage message, Runnable then);

  /** Writes {@code message}. */
  void deliver(AgentMessage message);
}
