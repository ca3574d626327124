package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.InetSocketAddress;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

/**
 * DNS queries sent by the app's own Netty over its native epoll transport, which sends datagrams in
 * native code, out of reach of the JDK's {@code DatagramChannelImpl} hooks. Reactor Netty (so
 * Spring WebFlux) and Lettuce use epoll on Linux whenever its jar is on the class path, and their
 * {@code DnsNameResolver} sends its queries from an unconnected {@code EpollDatagramChannel}: as for
 * the JDK's channels, a datagram to port 53 goes to the target's name server ({@link
 * LayerBridge#datagramTarget}), and the answer shows the address the query was sent to.
 *
 * <ul>
 *   <li>{@code AbstractEpollChannel#doWriteOrSendBytes(ByteBuf, InetSocketAddress, boolean)}: one
 *       datagram ({@code sendto}); TCP fast open (the flag) is left alone;
 *   <li>{@code NativeDatagramPacketArray$NativeDatagramPacket#init(long, int, int,
 *       InetSocketAddress)}: each datagram of a {@code sendmmsg} batch;
 *   <li>the constructor {@code io.netty.channel.socket.DatagramPacket(ByteBuf, InetSocketAddress,
 *       InetSocketAddress sender)}: every received datagram of every Netty transport; a sender that
 *       is one of mirrord's loopback relays becomes the address the app sent to (the resolver
 *       matches answers by it). On NIO the JDK hook already fixed it; then this is a no-op.
 * </ul>
 *
 * As in {@link NettyEpollInstrumentation}, no Netty type is named in the advice and the class names
 * are assembled at run time (the shade plugin would relocate them as string constants).
 */
public final class NettyDatagramInstrumentation {
  private NettyDatagramInstrumentation() {}

  static String socketClass(String simpleName) {
    return String.join(".", "io", "netty", "channel", "socket", simpleName);
  }

  /** The hooked types, for {@code LayerInstaller#hooks}: one per instrumentation of {@link #all()}. */
  public static List<String> types() {
    return List.of(
        NettyEpollInstrumentation.epollClass("AbstractEpollChannel"),
        NettyEpollInstrumentation.epollClass("NativeDatagramPacketArray$NativeDatagramPacket"),
        socketClass("DatagramPacket"));
  }

  public static List<TypeInstrumentation> all() {
    return List.of(
        simple(
            NettyEpollInstrumentation.epollClass("AbstractEpollChannel"),
            Advice.to(SendToAdvice.class)
                .on(named("doWriteOrSendBytes").and(takesArguments(3))
                    .and(takesArgument(1, InetSocketAddress.class))
                    .and(takesArgument(2, boolean.class)))),
        simple(
            NettyEpollInstrumentation.epollClass("NativeDatagramPacketArray$NativeDatagramPacket"),
            Advice.to(BatchPacketAdvice.class)
                .on(named("init").and(takesArguments(4))
                    .and(takesArgument(3, InetSocketAddress.class)))),
        simple(
            socketClass("DatagramPacket"),
            Advice.to(ReceivedPacketAdvice.class)
                .on(isConstructor().and(takesArguments(3))
                    .and(takesArgument(1, InetSocketAddress.class))
                    .and(takesArgument(2, InetSocketAddress.class)))));
  }

  private static TypeInstrumentation simple(String type, AsmVisitorWrapper advice) {
    return TypeInstrumentation.of(type, "netty datagram hook", advice);
  }

  static final class SendToAdvice {
    private SendToAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(
        @Advice.Argument(value = 1, readOnly = false) InetSocketAddress remote,
        @Advice.Argument(2) boolean fastOpen) {
      if (remote != null && !fastOpen && !BypassGuard.active()) {
        remote = (InetSocketAddress) LayerBridge.datagramTarget(remote);
      }
    }
  }

  static final class BatchPacketAdvice {
    private BatchPacketAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.Argument(value = 3, readOnly = false) InetSocketAddress recipient) {
      if (recipient != null && !BypassGuard.active()) {
        recipient = (InetSocketAddress) LayerBridge.datagramTarget(recipient);
      }
    }
  }

  static final class ReceivedPacketAdvice {
    private ReceivedPacketAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.Argument(value = 2, readOnly = false) InetSocketAddress sender) {
      if (sender != null && !BypassGuard.active()) {
        sender = (InetSocketAddress) LayerBridge.datagramSender(sender);
      }
    }
  }
}
