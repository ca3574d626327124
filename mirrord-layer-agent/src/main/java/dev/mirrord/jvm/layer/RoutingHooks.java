package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.bootstrap.LayerHooks;
import dev.mirrord.jvm.layer.dns.DnsOps;
import dev.mirrord.jvm.layer.file.FileOps;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.socket.ListenOps;
import dev.mirrord.jvm.layer.socket.OutgoingOps;
import dev.mirrord.jvm.layer.socket.PeerOps;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;

/**
 * The {@link LayerHooks} the layer registers with {@code LayerBridge}: routes each hook to the ops
 * that decides it, and turns any failure into one log line.
 */
final class RoutingHooks implements LayerHooks {
  private final ListenOps listenOps;
  private final PeerOps peerOps;
  private final DnsOps dnsOps;
  private final OutgoingOps outgoingOps;
  private final FileOps fileOps;
  private final LayerLog log;

  RoutingHooks(
      ListenOps listenOps,
      PeerOps peerOps,
      DnsOps dnsOps,
      OutgoingOps outgoingOps,
      FileOps fileOps,
      LayerLog log) {
    this.listenOps = listenOps;
    this.peerOps = peerOps;
    this.dnsOps = dnsOps;
    this.outgoingOps = outgoingOps;
    this.fileOps = fileOps;
    this.log = log;
  }

  @Override
  public String readInstead(String path) {
    try {
      return fileOps.readInstead(path);
    } catch (Throwable t) {
      log.error("file hook failed for " + path + "; it opens the local file", t);
      return null;
    }
  }

  @Override
  public InetSocketAddress connectTarget(int protocol, InetSocketAddress requested, int timeoutMillis)
      throws IOException {
    try {
      return outgoingOps.connect(protocol == UDP, requested, timeoutMillis);
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      log.error("outgoing hook failed for " + requested + "; it connects locally", t);
      return null;
    }
  }

  @Override
  public InetSocketAddress datagramTarget(InetSocketAddress target) {
    try {
      return outgoingOps.datagramTarget(target);
    } catch (Throwable t) {
      log.warn("DNS query to " + target + " stays local: " + t);
      return null;
    }
  }

  @Override
  public InetSocketAddress datagramPeer(InetSocketAddress seen) {
    return outgoingOps.datagramPeer(seen);
  }

  @Override
  public void datagramClosed(InetSocketAddress remote) {
    try {
      outgoingOps.datagramClosed(remote);
    } catch (Throwable t) {
      log.error("datagram close hook failed for " + remote, t);
    }
  }

  @Override
  public InetAddress[] lookup(String host, int characteristics) throws UnknownHostException {
    try {
      return dnsOps.lookup(host, characteristics);
    } catch (UnknownHostException e) {
      throw e;
    } catch (Throwable t) {
      log.error("dns hook failed for " + host + "; the JDK resolves it locally", t);
      return null;
    }
  }

  @Override
  public void onListen(SocketAddress requested, int boundPort) {
    try {
      listenOps.onListen(requested, boundPort);
    } catch (Throwable t) {
      log.error("listen hook failed for " + requested + " (port " + boundPort + ")", t);
    }
  }

  @Override
  public void onListenClosed(int localPort) {
    try {
      listenOps.onListenClosed(localPort);
    } catch (Throwable t) {
      log.error("listen-close hook failed for port " + localPort, t);
    }
  }

  @Override
  public InetSocketAddress realPeer(int appLocalPort, InetSocketAddress seen) {
    try {
      return peerOps.realPeer(appLocalPort, seen);
    } catch (Throwable t) {
      log.error("peer hook failed for " + seen, t);
      return null;
    }
  }
}
