package dev.mirrord.jvm.protocol;

import java.util.Objects;

/**
 * Outgoing family (since {@link #SINCE}): connections the app makes, made by the agent from inside
 * the target's network namespace.
 *
 * <p>The client asks with {@link ConnectRequest}; the agent connects (TCP) or connects a datagram
 * socket (UDP) and answers {@link ConnectResponse} with a fresh connection id, or with the error the
 * target saw ({@link ResponseError.RemoteIo} with the errno: {@link #ECONNREFUSED}, {@link
 * #EHOSTUNREACH}, {@link #ENETUNREACH}, {@link #ETIMEDOUT}). The bytes then travel as the incoming
 * family's {@link Tcp.Data}, {@link Tcp.Shutdown}, {@link Tcp.Close} and {@link Tcp.Flow} under
 * that id, both ways; for UDP each {@code Data} is one datagram. Outgoing ids always have {@link
 * #ID_BIT} set and incoming ones never do, so one id space serves both families.
 *
 * <p>Between the CLI and a layer the same messages are used: the layer asks, and the CLI answers
 * with {@link Connected#localAddress()}/{@link Connected#localPort()} set to the loopback endpoint
 * it opened for this flow (the layer rewrites the app's connect to it); between the agent and the
 * CLI they are the agent socket's own local address in the target.
 */
public final class Outgoing {
  private Outgoing() {}

  /** The first protocol version with this family. */
  public static final ProtocolVersion SINCE = new ProtocolVersion(1, 3);

  /**
   * Set in every outgoing connection id. The agent's id spaces: mirrored connections count from 1,
   * stolen ones carry {@link Tcp#STEAL_ID_BIT} (bit 62), outgoing ones this bit (61).
   */
  public static final long ID_BIT = 1L << 61;

  public static final int ECONNREFUSED = 111;
  public static final int ENETUNREACH = 101;
  public static final int EHOSTUNREACH = 113;
  public static final int ETIMEDOUT = 110;

  /** Whether {@code connectionId} belongs to this family. */
  public static boolean isOutgoing(long connectionId) {
    return (connectionId & ID_BIT) != 0;
  }

  /** What kind of flow; wire codes are stable. */
  public enum Protocol {
    TCP(1),
    UDP(2),
    /**
     * UDP to the target's name server: a DNS query the app sends itself (e.g. Netty's {@code
     * DnsNameResolver}). The agent sends it to the first name server of the target's {@code
     * resolv.conf}, whatever address the app used (the app read the local machine's).
     */
    DNS_UDP(3);

    public final int code;

    Protocol(int code) {
      this.code = code;
    }

    public static Protocol ofCode(int code) {
      for (Protocol p : values()) {
        if (p.code == code) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown outgoing protocol code " + code);
    }
  }

  /**
   * Connect to {@code address:port} (an IP literal) from the target.
   *
   * @param timeoutMillis the app's connect timeout, 0 for the agent's default
   */
  public record ConnectRequest(
      long requestId, Protocol protocol, String address, int port, int timeoutMillis)
      implements ClientMessage {
    public ConnectRequest {
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(address, "address");
      if (address.isEmpty()) {
        throw new IllegalArgumentException("empty address");
      }
      Tcp.checkPort(port);
      if (timeoutMillis < 0) {
        throw new IllegalArgumentException("negative timeout " + timeoutMillis);
      }
    }
  }

  /** A connected flow: its id, and a local endpoint (see the class comment). */
  public record Connected(long connectionId, String localAddress, int localPort) {
    public Connected {
      Objects.requireNonNull(localAddress, "localAddress");
      if (!isOutgoing(connectionId)) {
        throw new IllegalArgumentException("not an outgoing connection id: " + connectionId);
      }
      if (localPort < 0 || localPort > 65535) {
        throw new IllegalArgumentException("port out of range: " + localPort);
      }
    }
  }

  /** Answer to {@link ConnectRequest}. */
  public record ConnectResponse(long requestId, RemoteResult<Connected> result)
      implements AgentMessage {
    public ConnectResponse {
      Objects.requireNonNull(result, "result");
    }
  }
}
