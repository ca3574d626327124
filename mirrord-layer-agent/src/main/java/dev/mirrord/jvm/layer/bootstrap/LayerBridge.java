package dev.mirrord.jvm.layer.bootstrap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.stream.Stream;

/**
 * Static entry points called by advice inlined into JDK classes. Each one forwards to the
 * registered {@link LayerHooks} inside {@link BypassGuard}, and does nothing when no hooks are
 * registered, when the current thread is already inside the guard, or when the hooks throw: a
 * hook must never break the host JVM.
 */
public final class LayerBridge {
  private static volatile LayerHooks hooks;

  /** {@code InetAddressResolver.LookupPolicy#characteristics()} (JDK 18+), found on first use. */
  private static volatile java.lang.reflect.Method policyCharacteristics;

  private LayerBridge() {}

  /** Installs the layer's hooks; {@code null} unregisters them. */
  public static void register(LayerHooks layerHooks) {
    hooks = layerHooks;
  }

  /** The registered hooks, or {@code null}. */
  public static LayerHooks registered() {
    return hooks;
  }

  /** A server socket was bound; see {@link LayerHooks#onListen}. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static void onListen(SocketAddress requested, int boundPort) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active()) {
      return;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      h.onListen(requested, boundPort);
    } catch (Throwable ignored) {
      // The hooks log their own failures; whatever escapes must not reach the app.
    }
  }

  /** A server socket bound to {@code localPort} closed; see {@link LayerHooks#onListenClosed}. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static void onListenClosed(int localPort) {
    LayerHooks h = hooks;
    if (h == null || localPort <= 0 || BypassGuard.active()) {
      return;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      h.onListenClosed(localPort);
    } catch (Throwable ignored) {
      // The hooks log their own failures; whatever escapes must not reach the app.
    }
  }

  /**
   * For {@code SocketChannelImpl.remoteAddress()/getRemoteAddress()}: the relayed connection's real
   * peer instead of the CLI's loopback address; {@code remote} itself otherwise.
   */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static SocketAddress peerFor(SocketAddress local, SocketAddress remote) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || !isLoopback(remote)) {
      return remote;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetSocketAddress real = h.realPeer(portOf(local), (InetSocketAddress) remote);
      return real != null ? real : remote;
    } catch (Throwable ignored) {
      return remote;
    }
  }

  /** For {@code Socket.getInetAddress()}: see {@link #peerFor(SocketAddress, SocketAddress)}. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static InetAddress peerAddressFor(Socket socket, InetAddress address) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || address == null || !address.isLoopbackAddress()) {
      return address;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetSocketAddress real =
          h.realPeer(socket.getLocalPort(), new InetSocketAddress(address, socket.getPort()));
      return real != null ? real.getAddress() : address;
    } catch (Throwable ignored) {
      return address;
    }
  }

  /** For {@code Socket.getPort()}: see {@link #peerFor(SocketAddress, SocketAddress)}. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static int peerPortFor(Socket socket, int port) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || port <= 0) {
      return port;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetAddress address = socket.getInetAddress();
      if (address == null || !address.isLoopbackAddress()) {
        return port;
      }
      InetSocketAddress real = h.realPeer(socket.getLocalPort(), new InetSocketAddress(address, port));
      return real != null ? real.getPort() : port;
    } catch (Throwable ignored) {
      return port;
    }
  }

  /**
   * For JDK 17's {@code InetAddress$PlatformNameService#lookupAllHostAddr(String)}: the target's
   * answer, or {@code null} to let the JDK resolve {@code host} itself. Throws only the {@link
   * UnknownHostException} of a name the target does not know; any other failure means {@code null}.
   */
  public static InetAddress[] lookupAllHostAddr(String host) throws UnknownHostException {
    return lookup(host, -1);
  }

  /**
   * For JDK 18+'s {@code InetAddress$PlatformResolver#lookupByName(String, LookupPolicy)}: as
   * {@link #lookupAllHostAddr}, with the family and order of {@code lookupPolicy}.
   */
  public static Stream<InetAddress> lookupByName(String host, Object lookupPolicy)
      throws UnknownHostException {
    InetAddress[] answer = lookup(host, characteristicsOf(lookupPolicy));
    return answer == null ? null : java.util.Arrays.stream(answer);
  }

  @SuppressWarnings("try") // the guard scope is entered for its effect
  private static InetAddress[] lookup(String host, int characteristics)
      throws UnknownHostException {
    LayerHooks h = hooks;
    if (h == null || host == null || BypassGuard.active()) {
      return null;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      return h.lookup(host, characteristics);
    } catch (UnknownHostException e) {
      throw e;
    } catch (Throwable ignored) {
      return null; // the hooks log their own failures; the JDK resolves the name itself
    }
  }

  private static int characteristicsOf(Object lookupPolicy) {
    if (lookupPolicy == null) {
      return -1;
    }
    try {
      java.lang.reflect.Method m = policyCharacteristics;
      if (m == null) {
        m = lookupPolicy.getClass().getMethod("characteristics");
        policyCharacteristics = m;
      }
      return ((Integer) m.invoke(lookupPolicy)).intValue();
    } catch (Throwable t) {
      return -1;
    }
  }

  /**
   * The bound port of a Netty server channel of the app's own Netty (any version), read through
   * its public {@code localAddress()}; -1 if {@code channel} is no bound server channel.
   */
  public static int nettyServerPort(Object channel) {
    if (channel == null || !channel.getClass().getName().endsWith("ServerSocketChannel")) {
      return -1;
    }
    return portOf(nettyLocalAddress(channel));
  }

  /** {@code channel.localAddress()} of an app's Netty channel, or {@code null}. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static SocketAddress nettyLocalAddress(Object channel) {
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      Object a = channel.getClass().getMethod("localAddress").invoke(channel);
      return a instanceof SocketAddress ? (SocketAddress) a : null;
    } catch (Throwable t) {
      return null;
    }
  }

  private static boolean isLoopback(SocketAddress a) {
    return a instanceof InetSocketAddress
        && ((InetSocketAddress) a).getAddress() != null
        && ((InetSocketAddress) a).getAddress().isLoopbackAddress();
  }

  /** The port of an {@link InetSocketAddress}, or -1 for any other address (or {@code null}). */
  public static int portOf(SocketAddress address) {
    return address instanceof InetSocketAddress ? ((InetSocketAddress) address).getPort() : -1;
  }
}
