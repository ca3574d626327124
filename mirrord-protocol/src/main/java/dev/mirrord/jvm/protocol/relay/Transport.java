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
 * hop), else NIO. {@code -Dmirrord.transport=epoll|nio|auto} (or {@code MIRRORD_TRANSPORT}, which
 * the processes of a session inherit) chooses, e.g. for A/B measurements; {@code epoll} falls back
 * to NIO when the library does not load. {@code auto}, the default, is NIO for now: see {@link
 * #AUTO_TAKES_EPOLL}.
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
   * Whether {@code auto} takes epoll. Not with Netty 4.2.18: once a socket's input has ended (the
   * peer's FIN, kept open with {@code ALLOW_HALF_CLOSURE}) its epoll registration drops the file
   * descriptor ({@code EPOLL_CTL_DEL} when no event is wanted) but keeps its state, so the next
   * {@code EPOLL_CTL_MOD} fails with ENOENT: a {@code read()} or a write that has to wait for
   * {@code EPOLLOUT} then errors and the relay resets the connection (an upload's answer is lost;
   * bench/steal.sh bulk). {@code TcpRelaySocketTest} watches that bug; flip this when it is fixed.
   */
  static final boolean AUTO_TAKES_EPOLL = false;

  /**
   * The transport for {@code requested} ({@code null} meaning {@code auto}): {@code nio} is NIO;
   * {@code epoll} is epoll if available, else NIO; {@code auto} is NIO until {@link
   * #AUTO_TAKES_EPOLL}. An unknown value counts as {@code auto}: a typo in a measurement switch
   * must not stop a session.
   */
  static Transport choose(String requested, BooleanSupplier epollAvailable) {
    String r = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
    if (r.equals("nio")) {
      logger.debug("netty transport: nio ({}={})", PROPERTY, requested);
      return NIO;
    }
    if (!r.equals("auto") && !r.equals("epoll")) {
      logger.warn("unknown {} '{}' (auto, epoll or nio); using auto", PROPERTY, requested);
      r = "auto";
    }
    if (r.equals("auto") && !AUTO_TAKES_EPOLL) {
      logger.debug("netty transport: nio (auto; epoll only with {}=epoll)", PROPERTY);
      return NIO;
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
