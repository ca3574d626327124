package dev.mirrord.jvm.podagent;

import dev.mirrord.jvm.podagent.session.ClientSession;
import dev.mirrord.jvm.podagent.session.SessionContext;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's listening socket: a Netty server on a unix domain socket or TCP, one {@link
 * ClientSession} per accepted connection, each behind {@link ProtocolPipeline}.
 *
 * <p>A unix socket is bound under a temporary name, made mode 0600, then renamed into place, so no
 * other user can ever connect to it; a stale socket at the path is replaced, any other file there
 * is an error. {@link #close()} closes the server and deletes the file; it is idempotent.
 */
public final class AgentServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AgentServer.class);

  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final ListenAddress boundAddress;
  private final AtomicBoolean closed = new AtomicBoolean();

  private AgentServer(EventLoopGroup group, Channel serverChannel, ListenAddress boundAddress) {
    this.group = group;
    this.serverChannel = serverChannel;
    this.boundAddress = boundAddress;
  }

  /**
   * Binds {@code listen} and starts accepting; each connection gets a session on {@code context}.
   */
  public static AgentServer start(ListenAddress listen, SessionContext context)
      throws AgentException {
    Transport transport = Transport.preferred();
    EventLoopGroup group = transport.newGroup(2, new DefaultThreadFactory("mirrord-agent"));
    try {
      ChannelInitializer<Channel> initializer =
          new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
              ProtocolPipeline.installRelaying(ch.pipeline(), Side.AGENT, new ClientSession(context));
            }
          };
      if (listen instanceof ListenAddress.Unix unix) {
        return bindUnix(transport, group, unix, initializer);
      }
      ListenAddress.Tcp tcp = (ListenAddress.Tcp) listen;
      Channel ch =
          bootstrap(group, transport.serverSocketChannel(), initializer)
              .bind(tcp.socketAddress())
              .syncUninterruptibly()
              .channel();
      InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
      ListenAddress actual =
          new ListenAddress.Tcp(bound.getAddress().getHostAddress(), bound.getPort());
      logger.info("listening on {} ({})", actual, transport);
      return new AgentServer(group, ch, actual);
    } catch (AgentException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    } catch (Exception e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw new AgentException(ExitCodes.FAILURE, "cannot listen on " + listen + ": " + e, e);
    }
  }

  private static AgentServer bindUnix(
      Transport transport,
      EventLoopGroup group,
      ListenAddress.Unix unix,
      ChannelInitializer<Channel> initializer)
      throws AgentException, IOException {
    Path path = unix.path();
    removeStaleSocket(path);
    Path temporary =
        path.resolveSibling(
            "."
                + path.getFileName()
                + ".tmp"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Channel ch =
        bootstrap(group, transport.serverDomainSocketChannel(), initializer)
            .bind(transport.address(UnixDomainSocketAddress.of(temporary)))
            .syncUninterruptibly()
            .channel();
    try {
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
      Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      ch.close().syncUninterruptibly();
      Files.deleteIfExists(temporary);
      throw e;
    }
    logger.info("listening on {} ({})", unix, transport);
    return new AgentServer(group, ch, unix);
  }

  private static void removeStaleSocket(Path path) throws AgentException, IOException {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      return;
    }
    if (!attrs.isOther()) {
      throw new AgentException(
          ExitCodes.USAGE, path + " exists and is not a socket; refusing to replace it");
    }
    logger.info("removing stale socket {}", path);
    Files.deleteIfExists(path);
  }

  private static ServerBootstrap bootstrap(
      EventLoopGroup group, Class<? extends ServerChannel> type, ChannelInitializer<Channel> init) {
    return new ServerBootstrap().group(group).channel(type).childHandler(init);
  }

  /** The address actually bound (with the real port for {@code tcp:HOST:0}). */
  public ListenAddress boundAddress() {
    return boundAddress;
  }

  /** Stops accepting, closes every connection, deletes the socket file. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    serverChannel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    group
        .shutdownGracefully(0, 200, TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(2, TimeUnit.SECONDS);
    if (boundAddress instanceof ListenAddress.Unix unix) {
      try {
        Files.deleteIfExists(unix.path());
      } catch (IOException e) {
        logger.warn("cannot delete socket {}: {}", unix.path(), e.toString());
      }
    }
    logger.debug("server on {} closed", boundAddress);
  }
}
