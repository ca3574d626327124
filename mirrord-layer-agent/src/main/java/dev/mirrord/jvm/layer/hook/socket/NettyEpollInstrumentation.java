package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The app's own Netty native epoll transport, which binds and accepts in native code, out of reach
 * of the JDK hooks: {@code EpollServerSocketChannel#doBind} reports the listen, {@code
 * AbstractEpollChannel#doClose} of a server channel its end, and {@code remoteAddress0} of an
 * accepted channel shows the real peer of a relayed connection.
 *
 * <p>The advice names no Netty type (the layer's own Netty is relocated, so such a name would be
 * rewritten to the shaded copy): it passes {@code this} as an {@code Object} and {@link
 * LayerBridge} reads the port reflectively. The class names are assembled at run time for the same
 * reason: the shade plugin would relocate them as string constants. gRPC-java's {@code
 * grpc-netty-shaded} carries its own copy under {@code io.grpc.netty.shaded.io.netty}: the
 * listen of a plain gRPC server goes through that one, so both names are hooked.
 */
public final class NettyEpollInstrumentation {
  private NettyEpollInstrumentation() {}

  static String epollClass(String simpleName) {
    return String.join(".", "io", "netty", "channel", "epoll", simpleName);
  }

  /**
   * The hooked types, the app's Netty's and gRPC-java's shaded copy's, for each instrumentation of
   * {@link #all()} (for {@code LayerInstaller#hooks}).
   */
  public static java.util.List<String> types() {
    return java.util.List.of(
        epollClass("EpollServerSocketChannel"),
        shaded(epollClass("EpollServerSocketChannel")),
        epollClass("AbstractEpollChannel"),
        shaded(epollClass("AbstractEpollChannel")));
  }

  private static String shaded(String nettyClass) {
    return String.join(".", "io", "grpc", "netty", "shaded", nettyClass);
  }

  /** The epoll class {@code simpleName} of the app's Netty, or of gRPC-java's shaded copy of it. */
  static ElementMatcher.Junction<TypeDescription> epollType(String simpleName) {
    return named(epollClass(simpleName)).or(named(shaded(epollClass(simpleName))));
  }

  /** Both instrumentations: the server channel's bind, and close/peer on every epoll channel. */
  public static java.util.List<TypeInstrumentation> all() {
    return java.util.List.of(new ServerBind(), new ChannelCloseAndPeer());
  }

  static final class ServerBind implements TypeInstrumentation {
    private final AsmVisitorWrapper bindAdvice =
        Advice.to(BindAdvice.class).on(named("doBind").and(takesArguments(SocketAddress.class)));

    @Override
    public ElementMatcher<TypeDescription> typeMatcher() {
      return epollType("EpollServerSocketChannel");
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
      return builder.visit(bindAdvice);
    }
  }

  static final class ChannelCloseAndPeer implements TypeInstrumentation {
    private final AsmVisitorWrapper closeAdvice =
        Advice.to(CloseAdvice.class).on(named("doClose").and(takesArguments(0)));
    private final AsmVisitorWrapper peerAdvice =
        Advice.to(PeerAdvice.class).on(named("remoteAddress0").and(takesArguments(0)));

    @Override
    public ElementMatcher<TypeDescription> typeMatcher() {
      return epollType("AbstractEpollChannel");
    }

    @Override
    public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
      return builder.visit(closeAdvice).visit(peerAdvice);
    }
  }

  static final class BindAdvice {
    private BindAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object self, @Advice.Argument(0) SocketAddress requested) {
      if (!BypassGuard.active()) {
        LayerBridge.onListen(requested, LayerBridge.nettyServerPort(self));
      }
    }
  }

  static final class CloseAdvice {
    private CloseAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This Object self) {
      return BypassGuard.active() ? -1 : LayerBridge.nettyServerPort(self);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Enter int port) {
      if (port > 0) {
        LayerBridge.onListenClosed(port);
      }
    }
  }

  static final class PeerAdvice {
    private PeerAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object self, @Advice.Return(readOnly = false) SocketAddress remote) {
      if (remote != null && !BypassGuard.active()) {
        remote = LayerBridge.peerFor(LayerBridge.nettyLocalAddress(self), remote);
      }
    }
  }
}
