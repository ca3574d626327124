package dev.mirrord.jvm.protocol.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

/**
 * The socket transport of the CLI and the pod agent, the one place that names Netty's channel
 * classes: native epoll where its library loads (fewer JVM-side selector steps and copies per relay
 * hop), else NIO. {@code -Dmirrord.transport=nio} (or {@code MIRRORD_TRANSPORT=nio}, which the
 * processes of a session inherit) forces NIO, e.g. for A/B measurements; {@code epoll} and {@code
 * auto} (the default) take epoll when available.
 *
 * <p>An event loop only registers channels of its own transport, so code that is handed a loop asks
 * {@link #of(EventLoopGroup)} for the channel classes that fit it; only code that creates a group
 * asks for {@link #preferred()}.
 *
 * <p>Not for the layer: it shades this module but stays NIO, and the epoll classes this enum names
 * are an optional dependency that only the CLI and the pod agent bring (with the native library).
 */
public enum Transport {
  EPOLL {
    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return EpollIoHandler.newFactory();
    }

    @Override
    public Class<? extends SocketChannel> socketChannel() {
      return EpollSocketChannel.class;
    }

    @Override
    public Class<? extends ServerSocketChannel> serverSocketChannel() {
      return EpollServerSocketChannel.class;
    }

    @Override
    public Class<? extends Channel> domainSocketChannel() {
      return EpollDomainSocketChannel.class;
    }

    @Override
    public Class<? extends ServerChannel> serverDomainSocketChannel() {
      return EpollServerDomainSocketChannel.class;
    }

    @Override
    public Class<? extends DatagramChannel> datagramChannel() {
      return EpollDatagramChannel.class;
    }

    @Override
    public SocketAddress address(SocketAddress address) {
      // The native channels speak Netty's own unix address type, not the JDK's.
      return address instanceof UnixDomainSocketAddress unix
          ? new DomainSocketAddress(unix.getPath().toString())
          : address;
    }
  },

  NIO {
    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return NioIoHandler.newFactory();
    }

    @Override
    public Class<? extends SocketChannel> socketChannel() {
      return NioSocketChannel.class;
    }

    @Override
    public Class<? extends ServerSocketChannel> serverSocketChannel() {
      return NioServerSocketChannel.class;
    }

    @Override
    public Class<? extends Channel> domainSocketChannel() {
      return NioDomainSocketChannel.class;
    }

    @Override
    public Class<? extends ServerChannel> serverDomainSocketChannel() {
      return NioServerDomainSocketChannel.class;
    }

    @Override
    public Class<? extends DatagramChannel> datagramChannel() {
      return NioDatagramChannel.class;
    }

    @Override
    public SocketAddress address(SocketAddress address) {
      return address;
    }
  };

  /** System property choosing the transport: {@code auto} (default), {@code epoll} or {@code nio}. */
  public static final String PROPERTY = "mirrord.transport";

  /** Environment variable read when {@link #PROPERTY} is not set; inherited by child processes. */
  public static final String ENV = "MIRRORD_TRANSPORT";

  private static final InternalLogger logger = InternalLoggerFactory.getInstance(Transport.class);

  /** The I/O handler of this transport's event loops. */
  public abstract IoHandlerFactory ioHandlerFactory();

  /** TCP client sockets (and accepted ones). */
  public abstract Class<? extends SocketChannel> socketChannel();

  /** TCP listeners. */
  public abstract Class<? extends ServerSocketChannel> serverSocketChannel();

  /** Unix stream sockets; connect them to {@link #address} of the path. */
  public abstract Class<? extends Channel> domainSocketChannel();

  /** Unix stream listeners; bind them to {@link #address} of the path. */
  public abstract Class<? extends ServerChannel> serverDomainSocketChannel();

  /** UDP sockets. */
  public abstract Class<? extends DatagramChannel> datagramChannel();

  /** {@code address} as this transport's channels take it (a unix path in the native type). */
  public abstract SocketAddress address(SocketAddress address);

  /** The stream channel for {@code address}: unix or TCP. */
  public final Class<? extends Channel> streamChannelFor(SocketAddress address) {
    return address instanceof UnixDomainSocketAddress || address instanceof DomainSocketAddress
        ? domainSocketChannel()
        : socketChannel();
  }

  /** A group of {@code threads} event loops of this transport. */
  public final EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
    return new MultiThreadIoEventLoopGroup(threads, threadFactory, ioHandlerFactory());
  }

  /** {@code epoll} or {@code nio}, for logs. */
  @Override
  public final String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The transport of this process's new event loops, chosen once (see the class comment). */
  public static Transport preferred() {
    return Preferred.CHOICE;
  }

  /** The transport whose channels {@code group}'s loops take. */
  public static Transport of(EventLoopGroup group) {
    if (group instanceof IoEventLoopGroup io) {
      if (io.isIoType(NioIoHandler.class)) {
        return NIO;
      }
      if (io.isIoType(EpollIoHandler.class)) {
        return EPOLL;
      }
    }
    throw new IllegalArgumentException("not an NIO or epoll event loop group: " + group);
  }

  /** The explicit request of this process ({@link #PROPERTY}, else {@link #ENV}), or {@code null}. */
  public static String requested() {
    String property = System.getProperty(PROPERTY);
    return property != null ? property : System.getenv(ENV);
  }

  /**
   * Puts this process's explicit request into a child process's environment, so that the pod agent
   * a CLI starts (and the agent's own re-exec under nsenter) follows a {@code -D} given to its parent.
   */
  public static void passOn(Map<String, String> childEnvironment) {
    String r = requested();
    if (r != null) {
      childEnvironment.put(ENV, r);
    }
  }

  /**
   * The transport for {@code requested} ({@code null} meaning {@code auto}): NIO if asked for or if
   * epoll is not available, else epoll. An unknown value counts as {@code auto}: a typo in a
   * measurement switch must not stop a session.
   */
  static Transport choose(String requested, BooleanSupplier epollAvailable) {
    String r = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
    if (r.equals("nio")) {
      logger.debug("netty transport: nio ({}={})", PROPERTY, requested);
      return NIO;
    }
    if (!r.equals("auto") && !r.equals("epoll")) {
      logger.warn("unknown {} '{}' (auto, epoll or nio); using auto", PROPERTY, requested);
    }
    if (epollAvailable.getAsBoolean()) {
      logger.debug("netty transport: epoll (native)");
      return EPOLL;
    }
    logger.debug("netty transport: nio (epoll unavailable: {})", unavailabilityCause());
    return NIO;
  }

  private static Object unavailabilityCause() {
    try {
      return Epoll.unavailabilityCause();
    } catch (LinkageError e) {
      return e; // the epoll classes are not on the class path
    }
  }

  private static boolean epollAvailable() {
    try {
      return Epoll.isAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  /** Holder: the choice is made (and the native library loaded) on first use only. */
  private static final class Preferred {
    static final Transport CHOICE = choose(requested(), Transport::epollAvailable);
  }
}
