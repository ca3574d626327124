package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.Tcp;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects a socket of the CLI to the app on a local port so that the app sees the real client as
 * its peer: bind to the session's source ({@link RelayAddresses}), tell the layer which client that
 * source port stands for ({@code Tcp.IncomingPeer}), then connect (the layer's {@code PeerOps}
 * answers the app's accept with that client). An app that refuses 127.0.0.1 may listen on {@code
 * ::1} only: then the dial tries {@code [::1]} from the session's IPv6 source range (a source port
 * that is taken is skipped), and the next dials to that local port go there first. The relays of
 * mirrored and stolen connections ({@link IncomingProxy}) and the HTTP gateways ({@link
 * HttpGateway}, {@link H2Gateway}) dial this way, so each of them sees the app as the others do.
 */
final class AppDialer {
  private static final Logger logger = LoggerFactory.getLogger(AppDialer.class);

  /** One try's socket: the caller's bootstrap (its handler, its options), bound to {@code source}. */
  interface Binder {
    ChannelFuture bind(InetSocketAddress source);
  }

  /** How a dial ended: {@code ch} connected from {@code cliPort}, or {@code failure} (every socket tried is closed). */
  interface Outcome {
    void done(Channel ch, int cliPort, Throwable failure);
  }

  private final RelayAddresses addresses;
  /** Local ports whose app took a connection on {@code [::1]} after refusing one on 127.0.0.1. */
  private final Set<Integer> ipv6Only = ConcurrentHashMap.newKeySet();

  AppDialer(RelayAddresses addresses) {
    this.addresses = addresses;
  }

  /**
   * Dials the app on {@code localPort} for the client {@code clientAddress:clientPort}; {@code layer}
   * null: nobody to tell (the connect goes at once). {@code outcome} runs on the socket's event loop.
   */
  void dial(int localPort, LayerPeers layer, String clientAddress, int clientPort, Binder binder,
      Outcome outcome) {
    attempt(localPort, layer, clientAddress, clientPort, binder, outcome, ipv6Only.contains(localPort),
        addresses.v6RangeSize(), true);
  }

  private void attempt(int localPort, LayerPeers layer, String clientAddress, int clientPort,
      Binder binder, Outcome outcome, boolean ipv6, int v6Tries, boolean otherFamilyLeft) {
    InetSocketAddress source = ipv6 ? addresses.nextV6Source() : new InetSocketAddress(addresses.v4(), 0);
    InetSocketAddress app = new InetSocketAddress(
        ipv6 ? source.getAddress() : InetAddress.getLoopbackAddress(), localPort);
    ChannelFuture bound = binder.bind(source);
    Channel ch = bound.channel();
    bound.addListener(b -> {
      if (!b.isSuccess()) {
        ch.close();
        if (ipv6 && v6Tries > 1 && b.cause() instanceof BindException) {
          // that source port is taken: the next one
          attempt(localPort, layer, clientAddress, clientPort, binder, outcome, true, v6Tries - 1, otherFamilyLeft);
        } else {
          outcome.done(ch, 0, b.cause());
        }
        return;
      }
      int cliPort = ((InetSocketAddress) ch.localAddress()).getPort();
      Runnable connect = () -> ch.connect(app).addListener(done -> {
        if (done.isSuccess()) {
          boolean wasIpv6 = ipv6Only.contains(localPort);
          if (ipv6 != wasIpv6) {
            if (ipv6) {
              ipv6Only.add(localPort);
            } else {
              ipv6Only.remove(localPort);
            }
            logger.info("local port {} answers on {}", localPort, app.getAddress().getHostAddress());
          }
          outcome.done(ch, cliPort, null);
          return;
        }
        if (layer != null) {
          layer.deliver(Tcp.IncomingPeer.forget(cliPort));
        }
        ch.close(); // never active: no channelInactive
        // Refused: the other loopback, once. Not decided by what ipv6Only says now: a dial that started
        // before another one found the app on [::1] must still go there.
        boolean refused = done.cause() instanceof ConnectException;
        if (refused && otherFamilyLeft && !ipv6 && addresses.hasV6Range()) {
          attempt(localPort, layer, clientAddress, clientPort, binder, outcome, true, addresses.v6RangeSize(), false);
        } else if (refused && otherFamilyLeft && ipv6) {
          // it moved back to IPv4?
          attempt(localPort, layer, clientAddress, clientPort, binder, outcome, false, 0, false);
        } else {
          outcome.done(ch, cliPort, done.cause());
        }
      });
      if (layer != null) {
        layer.deliver(new Tcp.IncomingPeer(cliPort, clientAddress, clientPort), connect);
      } else {
        connect.run();
      }
    });
  }
}
