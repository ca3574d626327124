package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The app's outgoing connects (JDK 17 through 25), rewritten by {@link LayerBridge} to the CLI's
 * loopback endpoint of a flow the target makes:
 *
 * <ul>
 *   <li>{@code java.net.Socket#connect(SocketAddress, int)}: classic sockets, JDBC drivers, Jedis,
 *       {@code HttpURLConnection} (NIO adaptors override it and land in the next one);
 *   <li>{@code sun.nio.ch.SocketChannelImpl#connect} and {@code #blockingConnect}: NIO (blocking or
 *       not), the {@code socket()} adaptor, Netty NIO, {@code java.net.http.HttpClient};
 *   <li>{@code sun.nio.ch.UnixAsynchronousSocketChannelImpl#implConnect} and {@code
 *       AsynchronousSocketChannelImpl#getRemoteAddress}: NIO.2 async channels;
 *   <li>{@code io.netty.channel.epoll.AbstractEpollChannel#doConnect}: Netty's native epoll;
 *   <li>{@code sun.nio.ch.DatagramChannelImpl} {@code connect}, {@code send}, {@code receive},
 *       {@code remoteAddress/getRemoteAddress}, close, and the {@code DatagramSocket} adaptor's
 *       {@code send/receive}: connected UDP, and DNS queries the app sends itself.
 * </ul>
 *
 * Enter advice that rewrites is not {@code suppress}ed on purpose: the {@code IOException} of a
 * connect that failed in the target must reach the app. {@link LayerBridge} lets nothing else out.
 */
public final class OutgoingInstrumentation {
  private OutgoingInstrumentation() {}

  /** The hooked types, one per instrumentation of {@link #all()} (for {@code LayerInstaller#hooks}). */
  public static List<String> types() {
    return List.of(
        "java.net.Socket",
        "sun.nio.ch.SocketChannelImpl",
        "sun.nio.ch.UnixAsynchronousSocketChannelImpl",
        "sun.nio.ch.AsynchronousSocketChannelImpl",
        NettyEpollInstrumentation.epollClass("AbstractEpollChannel"),
        "sun.nio.ch.DatagramChannelImpl",
        "sun.nio.ch.DatagramSocketAdaptor");
  }

  public static List<TypeInstrumentation> all() {
    return List.of(
        simple("java.net.Socket",
            Advice.to(SocketConnectAdvice.class)
                .on(named("connect").and(takesArguments(SocketAddress.class, int.class)))),
        simple("sun.nio.ch.SocketChannelImpl",
            Advice.to(ChannelConnectAdvice.class)
                .on(named("connect").and(takesArguments(SocketAddress.class))),
            Advice.to(BlockingConnectAdvice.class)
                .on(named("blockingConnect").and(takesArguments(SocketAddress.class, long.class)))),
        simple("sun.nio.ch.UnixAsynchronousSocketChannelImpl",
            Advice.to(AsyncConnectAdvice.class)
                .on(named("implConnect").and(takesArguments(3)))),
        simple("sun.nio.ch.AsynchronousSocketChannelImpl",
            Advice.to(AsyncPeerAdvice.class)
                .on(named("getRemoteAddress").and(takesArguments(0)))),
        simple(NettyEpollInstrumentation.epollClass("AbstractEpollChannel"),
            Advice.to(ChannelConnectAdvice.class)
                .on(named("doConnect").and(takesArguments(2)).and(takesArgument(0, SocketAddress.class)))),
        simple("sun.nio.ch.DatagramChannelImpl",
            Advice.to(DatagramConnectAdvice.class)
                .on(named("connect").and(takesArgument(0, SocketAddress.class))),
            Advice.to(DatagramPeerAdvice.class)
                .on(named("remoteAddress").or(named("getRemoteAddress")).and(takesArguments(0))),
            Advice.to(DatagramSenderAdvice.class)
                .on(named("receive").and(takesArguments(ByteBuffer.class)).and(returns(SocketAddress.class))),
            Advice.to(DatagramSendAdvice.class)
                .on(named("send").and(takesArguments(ByteBuffer.class, SocketAddress.class))),
            Advice.to(DatagramCloseAdvice.class)
                .on(named("implCloseSelectableChannel").and(takesArguments(0)))),
        simple("sun.nio.ch.DatagramSocketAdaptor",
            Advice.to(PacketSendAdvice.class)
                .on(named("send").and(takesArguments(DatagramPacket.class))),
            Advice.to(PacketReceiveAdvice.class)
                .on(named("receive").and(takesArguments(DatagramPacket.class)))));
  }

  private static TypeInstrumentation simple(String type, AsmVisitorWrapper... advice) {
    return TypeInstrumentation.of(type, "outgoing hooks", advice);
  }

  static final class SocketConnectAdvice {
    private SocketConnectAdvice() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 0, readOnly = false) SocketAddress endpoint,
        @Advice.Argument(1) int timeout)
        throws IOException {
      if (!BypassGuard.active()) {
        endpoint = LayerBridge.connectTcp(endpoint, timeout);
      }
    }
  }

  static final class ChannelConnectAdvice {
    private ChannelConnectAdvice() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(value = 0, readOnly = false) SocketAddress remote)
        throws IOException {
      if (!BypassGuard.active()) {
        remote = LayerBridge.connectTcp(remote, 0);
      }
    }
  }

  static final class BlockingConnectAdvice {
    private BlockingConnectAdvice() {}

    @Advice.OnMethodEnter
    static void enter(
        @Advice.Argument(value = 0, readOnly = false) SocketAddress remote,
        @Advice.Argument(1) long nanos)
        throws IOException {
      if (!BypassGuard.active()) {
        remote = LayerBridge.connectTcp(remote, LayerBridge.nanosToTimeout(nanos));
      }
    }
  }

  /**
   * An async connect that failed in the target fails as the JDK's own would: the handler's {@code
   * failed} (called on the connecting thread) or a failed future; the JDK method is skipped.
   */
  static final class AsyncConnectAdvice {
    private AsyncConnectAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static Throwable enter(@Advice.Argument(value = 0, readOnly = false) SocketAddress remote) {
      if (BypassGuard.active()) {
        return null;
      }
      try {
        remote = LayerBridge.connectTcp(remote, 0);
        return null;
      } catch (IOException e) {
        return e;
      }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Advice.OnMethodExit
    static void exit(
        @Advice.Enter Throwable failure,
        @Advice.Argument(1) Object attachment,
        @Advice.Argument(2) java.nio.channels.CompletionHandler handler,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object result) {
      if (failure != null) {
        if (handler != null) {
          handler.failed(failure, attachment);
          result = null;
        } else {
          java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
          f.completeExceptionally(failure);
          result = f;
        }
      }
    }
  }

  static final class AsyncPeerAdvice {
    private AsyncPeerAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Return(readOnly = false) SocketAddress remote) {
      if (remote != null && !BypassGuard.active()) {
        remote = LayerBridge.peerFor(null, remote);
      }
    }
  }

  static final class DatagramConnectAdvice {
    private DatagramConnectAdvice() {}

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(value = 0, readOnly = false) SocketAddress remote)
        throws IOException {
      if (!BypassGuard.active()) {
        remote = LayerBridge.connectUdp(remote);
      }
    }
  }

  static final class DatagramPeerAdvice {
    private DatagramPeerAdvice() {}

    /** {@code remoteAddress()} returns an {@code InetSocketAddress}: dynamic typing casts. */
    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) SocketAddress remote) {
      if (remote != null && !BypassGuard.active()) {
        remote = LayerBridge.datagramPeer(remote);
      }
    }
  }

  static final class DatagramSenderAdvice {
    private DatagramSenderAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Return(readOnly = false) SocketAddress sender) {
      if (sender != null && !BypassGuard.active()) {
        sender = LayerBridge.datagramSender(sender);
      }
    }
  }

  static final class DatagramSendAdvice {
    private DatagramSendAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(
        @Advice.FieldValue(value = "remoteAddress", readOnly = true) InetSocketAddress connected,
        @Advice.Argument(value = 1, readOnly = false) SocketAddress target) {
      if (target != null && !BypassGuard.active()) {
        target = LayerBridge.datagramSendTarget(connected, target);
      }
    }
  }

  static final class DatagramCloseAdvice {
    private DatagramCloseAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(
        @Advice.FieldValue(value = "remoteAddress", readOnly = true) InetSocketAddress connected) {
      if (connected != null && !BypassGuard.active()) {
        LayerBridge.datagramClosed(connected);
      }
    }
  }

  static final class PacketSendAdvice {
    private PacketSendAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static SocketAddress enter(@Advice.This DatagramSocket self, @Advice.Argument(0) DatagramPacket p) {
      return BypassGuard.active() ? null : LayerBridge.swapPacketTarget(self, p);
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    static void exit(@Advice.Argument(0) DatagramPacket p, @Advice.Enter SocketAddress original) {
      if (original != null) {
        p.setSocketAddress(original);
      }
    }
  }

  static final class PacketReceiveAdvice {
    private PacketReceiveAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Argument(0) DatagramPacket p) {
      if (!BypassGuard.active()) {
        LayerBridge.fixDatagramSender(p);
      }
    }
  }
}
