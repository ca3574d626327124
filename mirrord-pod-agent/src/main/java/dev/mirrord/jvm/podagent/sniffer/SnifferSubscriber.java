package dev.mirrord.jvm.podagent.sniffer;

/**
 * Receives the mirrored connections of the ports it subscribed to {@link TcpSniffer}. All calls
 * come on the sniffer thread, in order per connection, and must not block: the capture of every
 * client waits meanwhile (queue, or write to a Netty channel, and return). A call that throws gets
 * the subscriber unsubscribed from every port.
 */
public interface SnifferSubscriber {

  /** A connection to a subscribed port started; {@code connectionId} is unique per sniffer. */
  void newConnection(long connectionId, FlowKey flow);

  /** The next client-to-server bytes. The array is shared between subscribers: don't modify it. */
  void data(long connectionId, byte[] bytes);

  /**
   * The connection ended: the client's FIN after all its bytes ({@code reset} false), or an RST or
   * an incomplete stream ({@code reset} true). No call follows for this id.
   */
  void closed(long connectionId, boolean reset);
}
