package dev.mirrord.jvm.layer.bootstrap;

import java.io.IOException;
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
    if (h == null || BypassGuard.active() || !isLoopback(address)) {
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
      if (!isLoopback(address)) {
        return port;
      }
      InetSocketAddress real = h.realPeer(socket.getLocalPort(), new InetSocketAddress(address, port));
      return real != null ? real.getPort() : port;
    } catch (Throwable ignored) {
      return port;
    }
  }

  /**
   * For a TCP connect ({@code Socket.connect}, {@code SocketChannelImpl.connect/blockingConnect},
   * async channels, Netty epoll): the address to connect to instead, or {@code remote} itself.
   * Throws only the {@link IOException} of a connect that failed in the target.
   */
  public static SocketAddress connectTcp(SocketAddress remote, int timeoutMillis) throws IOException {
    return connect(LayerHooks.TCP, remote, timeoutMillis);
  }

  /** For {@code DatagramChannelImpl.connect}: see {@link #connectTcp}. */
  public static SocketAddress connectUdp(SocketAddress remote) throws IOException {
    return connect(LayerHooks.UDP, remote, 0);
  }

  @SuppressWarnings("try") // the guard scope is entered for its effect
  private static SocketAddress connect(int protocol, SocketAddress remote, int timeoutMillis)
      throws IOException {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || !(remote instanceof InetSocketAddress)) {
      return remote;
    }
    InetSocketAddress isa = (InetSocketAddress) remote;
    if (isa.isUnresolved()
        || (isa.getAddress().isLoopbackAddress() && !isDns(protocol, isa) && !isDnsOverTcp(protocol, isa))) {
      return remote;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetSocketAddress instead = h.connectTarget(protocol, isa, timeoutMillis);
      return instead != null ? instead : remote;
    } catch (IOException e) {
      throw e;
    } catch (Throwable ignored) {
      return remote; // the hooks log their own failures
    }
  }

  /**
   * A DNS query over UDP (port 53), which goes to the target's name server even when the app
   * sends it to a loopback resolver (e.g. systemd-resolved's 127.0.0.53 from the local resolv.conf).
   */
  /**
   * A DNS connection over TCP (port 53): the fallback of a resolver whose UDP answer was truncated;
   * to a loopback name server of the target's resolv.conf it is the target's loopback (the hooks
   * decide, with {@code dns.remote}).
   */
  private static boolean isDnsOverTcp(int protocol, InetSocketAddress to) {
    return protocol == LayerHooks.TCP && to.getPort() == 53;
  }

  private static boolean isDns(int protocol, InetSocketAddress to) {
    return protocol == LayerHooks.UDP && to.getPort() == 53;
  }

  /** For {@code DatagramChannelImpl.send(ByteBuffer, SocketAddress)}: where to send instead. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static SocketAddress datagramTarget(SocketAddress target) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || !(target instanceof InetSocketAddress)
        || ((InetSocketAddress) target).isUnresolved()
        || !isDns(LayerHooks.UDP, (InetSocketAddress) target)) {
      return target; // only DNS queries: unconnected UDP stays local otherwise
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetSocketAddress instead = h.datagramTarget((InetSocketAddress) target);
      return instead != null ? instead : target;
    } catch (Throwable ignored) {
      return target;
    }
  }

  /** For a datagram socket's peer or a received datagram's sender: the address the app used. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static SocketAddress datagramPeer(SocketAddress seen) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || !isLoopback(seen)) {
      return seen;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      InetSocketAddress real = h.datagramPeer((InetSocketAddress) seen);
      return real != null ? real : seen;
    } catch (Throwable ignored) {
      return seen;
    }
  }

  /**
   * The sender of a datagram the app received: {@link #datagramPeer} without the host name, as the
   * JDK reports a sender (a bare address).
   */
  public static SocketAddress datagramSender(SocketAddress seen) {
    SocketAddress real = datagramPeer(seen);
    if (real == seen || !(real instanceof InetSocketAddress)) {
      return seen;
    }
    InetSocketAddress isa = (InetSocketAddress) real;
    try {
      return new InetSocketAddress(InetAddress.getByAddress(isa.getAddress().getAddress()), isa.getPort());
    } catch (UnknownHostException e) {
      return real;
    }
  }

  /** {@link #datagramSender} for a {@code DatagramPacket} the app received: fixes its sender. */
  public static void fixDatagramSender(java.net.DatagramPacket packet) {
    if (packet == null || hooks == null || BypassGuard.active()) {
      return;
    }
    try {
      SocketAddress seen = packet.getSocketAddress();
      SocketAddress real = datagramSender(seen);
      if (real != seen) {
        packet.setSocketAddress(real);
      }
    } catch (Throwable ignored) {
      // an unset packet address: nothing to fix
    }
  }

  /**
   * For a send to {@code target} on a datagram channel whose (JDK-side) peer is {@code connected}:
   * a connected channel sending to the address the app connected to sends to its loopback
   * endpoint; an unconnected one may send a DNS query to the target's name server ({@link
   * #datagramTarget}).
   */
  public static SocketAddress datagramSendTarget(SocketAddress connected, SocketAddress target) {
    if (hooks == null || BypassGuard.active() || target == null) {
      return target;
    }
    if (connected != null) {
      return !connected.equals(target) && datagramPeer(connected).equals(target) ? connected : target;
    }
    return datagramTarget(target);
  }

  /**
   * For {@code DatagramSocket.send(p)} (the NIO adaptor): points {@code p} where {@link
   * #datagramSendTarget} says and returns the address to put back after the send, or {@code null}.
   */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static SocketAddress swapPacketTarget(java.net.DatagramSocket socket, java.net.DatagramPacket p) {
    if (hooks == null || BypassGuard.active() || p == null || p.getAddress() == null) {
      return null;
    }
    try {
      SocketAddress target = p.getSocketAddress();
      SocketAddress connected;
      try (BypassGuard.Scope g = BypassGuard.enter()) {
        connected = socket.getRemoteSocketAddress(); // as the JDK knows it
      }
      SocketAddress instead = datagramSendTarget(connected, target);
      if (instead != null && !instead.equals(target)) {
        p.setSocketAddress(instead);
        return target;
      }
    } catch (Throwable ignored) {
      // leave the packet alone
    }
    return null;
  }

  /** A datagram socket whose peer is {@code remote} closed. */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static void datagramClosed(SocketAddress remote) {
    LayerHooks h = hooks;
    if (h == null || BypassGuard.active() || !isLoopback(remote)) {
      return;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      h.datagramClosed((InetSocketAddress) remote);
    } catch (Throwable ignored) {
      // logged by the hooks
    }
  }

  /** Nanoseconds (as {@code SocketChannelImpl.blockingConnect} takes them) to a millisecond timeout. */
  public static int nanosToTimeout(long nanos) {
    if (nanos <= 0 || nanos == Long.MAX_VALUE) {
      return 0;
    }
    long millis = Math.max(1, nanos / 1_000_000);
    return millis > Integer.MAX_VALUE ? 0 : (int) millis;
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
   * For {@code FileInputStream.open(String)} (and {@link #openForRead(String, int)}): the file to
   * open instead of {@code path}, which is {@code path} itself unless the hooks redirect it. The
   * filter first: only names ending in {@code hosts} or {@code resolv.conf} reach the hooks, every
   * other open (class path jars, the app's files) pays one volatile read and two {@code endsWith}.
   */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  public static String openForRead(String path) {
    LayerHooks h = hooks;
    if (h == null
        || path == null
        || !(path.endsWith("hosts") || path.endsWith("resolv.conf"))
        || BypassGuard.active()) {
      return path;
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      String instead = h.readInstead(path);
      return instead != null ? instead : path;
    } catch (Throwable ignored) {
      return path; // the hooks log their own failures
    }
  }

  /** {@code RandomAccessFile}'s read-only mode bit ({@code "r"}; {@code "rw"} etc. add others). */
  private static final int RANDOM_ACCESS_READ_ONLY = 1;

  /**
   * For {@code RandomAccessFile.open(String, int)}: {@link #openForRead(String)} when {@code mode}
   * is read-only, else {@code path}.
   */
  public static String openForRead(String path, int mode) {
    return mode == RANDOM_ACCESS_READ_ONLY ? openForRead(path) : path;
  }

  /** {@code O_ACCMODE}: the access-mode bits of {@code open(2)} flags ({@code O_RDONLY} is 0). */
  private static final int O_ACCMODE = 3;

  /**
   * For {@code sun.nio.fs.UnixNativeDispatcher.open(UnixPath, int, int)}, under every NIO open
   * ({@code Files.newInputStream/newBufferedReader/readAllBytes/readString/lines}, {@code
   * FileChannel.open}): for a read-only open, the {@code UnixPath} to open instead of {@code path}
   * (same file system); {@code path} itself otherwise.
   */
  public static Object openForRead(Object path, int flags) {
    if (hooks == null || (flags & O_ACCMODE) != 0 || !(path instanceof java.nio.file.Path)) {
      return path;
    }
    try {
      String name = path.toString();
      String instead = openForRead(name);
      return instead == name ? path : ((java.nio.file.Path) path).getFileSystem().getPath(instead);
    } catch (Throwable t) {
      return path;
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
    return a instanceof InetSocketAddress && isLoopback(((InetSocketAddress) a).getAddress());
  }

  /**
   * A loopback address, IPv4-mapped ones too: a dual-stack socket may report a peer on
   * 127.0.0.0/8 as {@code ::ffff:127.x.y.z} (Netty's native transport does; the JDK's own sockets
   * turn it into an IPv4 address).
   */
  static boolean isLoopback(InetAddress a) {
    if (a == null) {
      return false;
    }
    if (a.isLoopbackAddress()) {
      return true;
    }
    byte[] b = a.getAddress();
    if (b.length != 16 || b[10] != (byte) 0xff || b[11] != (byte) 0xff || b[12] != 127) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The port of an {@link InetSocketAddress}, or -1 for any other address (or {@code null}). */
  public static int portOf(SocketAddress address) {
    return address instanceof InetSocketAddress ? ((InetSocketAddress) address).getPort() : -1;
  }
}
