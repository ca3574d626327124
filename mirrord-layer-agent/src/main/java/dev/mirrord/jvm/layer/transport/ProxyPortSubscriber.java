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

  /** The way before the main connection is up: the start connection ({@link ConnectionStart#subscribeOnStart}). */
  public interface OnStart {
    /** The answer, or {@code null} if this way is closed (the main connection's is then taken). */
    Tcp.PortSubscribeResult subscribeOnStart(Tcp.PortSubscribe request, long deadline) throws java.io.IOException;

    /** Whether {@code request} went this way (else the main connection's is taken). */
    boolean unsubscribeOnStart(Tcp.PortUnsubscribe request);
  }

  /** The main connection, waited for if it is not up yet ({@link ConnectionStart#await}). */
  private final Supplier<ProxyConnection> connection;
  private final OnStart onStart;
  private final LayerLog log;

  /** With {@code onStart} tried first (the layer's {@link ConnectionStart}). */
  public ProxyPortSubscriber(Supplier<ProxyConnection> connection, OnStart onStart, LayerLog log) {
    this.connection = connection;
    this.onStart = onStart;
    this.log = log;
  }

  @Override
  public String subscribe(int remotePort, IncomingMode mode) {
    try {
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      Tcp.PortSubscribe request = new Tcp.PortSubscribe(remotePort, mode);
      AgentMessage answer = null;
      try {
        answer = onStart.subscribeOnStart(request, deadline);
      } catch (java.io.IOException e) {
        log.debug("the start connection failed (" + e + "); subscribing on the main connection");
      }
      String via = " on the start connection";
      if (answer == null) {
        if (System.nanoTime() - deadline >= 0) {
          log.warn("target port " + remotePort + " not subscribed: no answer from mirrord in " + TIMEOUT.toSeconds() + " s");
          return "no answer from mirrord in time";
        }
        ProxyConnection connection = this.connection.get();
        answer = connection.await(connection.request(request), deadline, "PortSubscribe " + remotePort);
        via = "";
      }
      if (!(answer instanceof Tcp.PortSubscribeResult)) {
        return "unexpected answer " + answer;
      }
      RemoteResult<Integer> r = ((Tcp.PortSubscribeResult) answer).result();
      if (r.isOk()) {
        log.info("subscribed target port " + remotePort + " (" + mode + ")" + via);
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
    Tcp.PortUnsubscribe request = new Tcp.PortUnsubscribe(remotePort);
    if (onStart.unsubscribeOnStart(request)) {
      log.info("unsubscribed target port " + remotePort + " on the start connection");
      return;
    }
    connection.get().send(request);
    log.info("unsubscribed target port " + remotePort);
  }
}
