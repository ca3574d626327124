package dev.mirrord.jvm.protocol;

/**
 * Incoming TCP family (mirror and steal). The client subscribes target ports; the agent announces
 * each connection with {@link NewConnection} and then both sides exchange {@link Data}, {@link
 * Shutdown} (half-close), {@link Close} and {@link Flow} (back-pressure) under its connection id.
 * Ids are chosen by the agent and unique within one agent connection.
 */
public final class Tcp {
  private Tcp() {}

  /** Set in the ids of stolen connections (mirrored ones count from 1; see {@code Outgoing.ID_BIT}). */
  public static final long STEAL_ID_BIT = 1L << 62;

  /** Largest {@link Data} payload a peer sends; bigger writes are cut into chunks. */
  public static final int MAX_CHUNK = 256 * 1024;

  public record PortSubscribe(int port, IncomingMode mode) implements ClientMessage {
    public PortSubscribe {
      checkPort(port);
    }
  }

  public record PortUnsubscribe(int port) implements ClientMessage {
    public PortUnsubscribe {
      checkPort(port);
    }
  }

  /** Answer to {@link PortSubscribe}; {@code Ok} carries the port. */
  public record PortSubscribeResult(int port, RemoteResult<Integer> result)
      implements AgentMessage {}

  /**
   * A connection to subscribed {@code targetPort} arrived. {@code source*} is the real client,
   * {@code destination*} the address it connected to inside the target.
   */
  public record NewConnection(
      long connectionId,
      IncomingMode mode,
      int targetPort,
      String sourceAddress,
      int sourcePort,
      String destinationAddress,
      int destinationPort)
      implements AgentMessage {}

  /**
   * CLI to layer only (since 1.1): the app's socket whose peer port is {@code localPort} (the CLI's
   * end of a relayed connection on loopback) really comes from {@code sourceAddress:sourcePort}, so
   * the layer can show the app the real client as the peer. An empty {@code sourceAddress} (and
   * port 0) means the relay closed: forget the mapping.
   */
  public record IncomingPeer(int localPort, String sourceAddress, int sourcePort)
      implements AgentMessage {
    public IncomingPeer {
      checkPort(localPort);
    }

    /** The relay through {@code localPort} closed. */
    public static IncomingPeer forget(int localPort) {
      return new IncomingPeer(localPort, "", 0);
    }
  }

  /** Bytes of one connection, in order. */
  public record Data(long connectionId, Payload bytes) implements ClientMessage, AgentMessage {}

  /** The sender will write no more on this connection (TCP FIN); the other direction stays open. */
  public record Shutdown(long connectionId) implements ClientMessage, AgentMessage {}

  /** The connection is gone: closed, or reset if {@code reset}. */
  public record Close(long connectionId, boolean reset) implements ClientMessage, AgentMessage {}

  /** Back-pressure: the sender cannot take more data for this connection until resumed. */
  public record Flow(long connectionId, boolean paused) implements ClientMessage, AgentMessage {}

  /**
   * The connection id of a stream message ({@link Data}, {@link Shutdown}, {@link Close}, {@link
   * Flow}); 0 for any other message (no connection has id 0).
   */
  public static long connectionIdOf(Message m) {
    if (m instanceof Data d) {
      return d.connectionId();
    } else if (m instanceof Shutdown s) {
      return s.connectionId();
    } else if (m instanceof Close c) {
      return c.connectionId();
    } else if (m instanceof Flow f) {
      return f.connectionId();
    }
    return 0;
  }

  static void checkPort(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }
}
