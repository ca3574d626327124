package dev.mirrord.jvm.podagent.sniffer;

import java.net.InetAddress;

/**
 * One TCP connection seen from the client's side: {@code source*} is the client that connected,
 * {@code destination*} the address and port it connected to in the target (the subscribed port).
 * Both addresses are of the same family.
 */
public record FlowKey(
    InetAddress sourceAddress,
    int sourcePort,
    InetAddress destinationAddress,
    int destinationPort) {

  /** The same connection in the server-to-client direction. */
  FlowKey reversed() {
    return new FlowKey(destinationAddress, destinationPort, sourceAddress, sourcePort);
  }

  @Override
  public String toString() {
    return sourceAddress.getHostAddress()
        + ":"
        + sourcePort
        + " -> "
        + destinationAddress.getHostAddress()
        + ":"
        + destinationPort;
  }
}
