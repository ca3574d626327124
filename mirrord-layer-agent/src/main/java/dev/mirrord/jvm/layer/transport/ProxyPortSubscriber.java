package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.socket.PortSubscriber;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Tcp;
import java.util.function.Supplier;
import java.time.Duration;

/**
 * {@link PortSubscriber} over the CLI connection. The app's {@code bind} waits for the answer (at
 * most {@link #TIMEOUT}) so that, once {@code bind} returns, the target's traffic is already on its
 * way: a request sent right after startup is not lost to a race.
 */
public final class ProxyPortSubscriber implements PortSubscriber {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** The main connection, waited for if it is not up yet ({@link ConnectionStart#await}). */
  private final Supplier<ProxyConnection> connection;
  private final LayerLog log;

  public ProxyPortSubscriber(Supplier<ProxyConnection> connection, LayerLog log) {
    this.connection = connection;
    this.log = log;
  }

  @Override
  public String subscribe(int remotePort, IncomingMode mode) {
    try {
      ProxyConnection connection = this.connection.get();
      AgentMessage answer =
          connection.await(
              connection.request(new Tcp.PortSubscribe(remotePort, mode)),
              System.nanoTime() + TIMEOUT.toNanos(),
              "PortSubscribe " + remotePort);
      if (!(answer instanceof Tcp.PortSubscribeResult)) {
        return "unexpected answer " + answer;
      }
      RemoteResult<Integer> r = ((Tcp.PortSubscribeResult) answer).result();
      if (r.isOk()) {
        log.info("subscribed target port " + remotePort + " (" + mode + ")");
        return null;
      }
      String why = ((RemoteResult.Err<Integer>) r).error().describe();
      log.warn("target port " + remotePort + " not subscribed: " + why);
      return why;
    } catch (Exception e) {
      log.warn("target port " + remotePort + " not subscribed: " + e.getMessage());
      return String.valueOf(e.getMessage());
    }
  }

  @Override
  public void unsubscribe(int remotePort) {
    connection.get().send(new Tcp.PortUnsubscribe(remotePort));
    log.info("unsubscribed target port " + remotePort);
  }
}
