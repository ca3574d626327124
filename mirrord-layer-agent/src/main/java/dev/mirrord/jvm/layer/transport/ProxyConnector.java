package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.socket.OutgoingOps;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Tcp;
import java.util.function.Supplier;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link OutgoingOps.Connector} over the CLI connection: one {@code ConnectRequest} per connect.
 *
 * <p>A TCP connect is asked on the app's own thread, on a connection of the {@link
 * BlockingConnectionPool} (no hand-off to the layer's event loop and back: two thread wake-ups of
 * the ~10 that a connect through the target costs); when the pool has none to give, through the
 * main connection as before. UDP and DNS flows always use the main connection: the CLI ends them
 * when the connection that opened them closes, which must be the layer's own.
 */
public final class ProxyConnector implements OutgoingOps.Connector {
  /** The main connection, waited for if it is not up yet ({@link ConnectionStart#await}). */
  private final Supplier<ProxyConnection> connection;

  public ProxyConnector(Supplier<ProxyConnection> connection) {
    this.connection = connection;
  }

  @Override
  public boolean available() {
    ProxyConnection connection = this.connection.get();
    return connection.isOpen() && connection.negotiated().compareTo(Outgoing.SINCE) >= 0;
  }

  @Override
  public RemoteResult<Outgoing.Connected> connect(
      Outgoing.Protocol protocol, InetSocketAddress to, int timeoutMillis, int waitMillis)
      throws IOException {
    ProxyConnection connection = this.connection.get();
    Outgoing.ConnectRequest request = new Outgoing.ConnectRequest(connection.nextRequestId(),
        protocol, to.getAddress().getHostAddress(), to.getPort(), timeoutMillis);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    if (protocol == Outgoing.Protocol.TCP) {
      Outgoing.ConnectResponse r;
      try {
        r = connection.connectPool().connect(request, deadline);
      } catch (SocketTimeoutException e) {
        throw new SocketTimeoutException("no answer from mirrord in " + waitMillis + " ms");
      }
      if (r != null) {
        return r.result();
      }
    }
    CompletableFuture<AgentMessage> answer = connection.request(request);
    AgentMessage m;
    try {
      m = answer.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      answer.cancel(false);
      throw new SocketTimeoutException("no answer from mirrord in " + waitMillis + " ms");
    } catch (ExecutionException e) {
      throw new IOException(ProxyConnection.describe(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while connecting through mirrord");
    }
    if (!(m instanceof Outgoing.ConnectResponse)) {
      throw new IOException("unexpected answer to ConnectRequest: " + m);
    }
    return ((Outgoing.ConnectResponse) m).result();
  }

  @Override
  public void closeFlow(long connectionId) {
    connection.get().send(new Tcp.Close(connectionId, false));
  }
}
