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
 * {@code sun.nio.ch.SocketChannelImpl#remoteAddress()} and {@code #getRemoteAddress()} (JDK 17
 * through 25): the peer of NIO channels, of their {@code socket()} adaptors (which ask {@code
 * remoteAddress()}), of Netty's NIO transport and of the JDK {@code HttpServer}. For a connection
 * relayed by mirrord the app sees the target's real client instead of the CLI's loopback socket.
 */
public final class AcceptedPeerInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "sun.nio.ch.SocketChannelImpl";

  private final AsmVisitorWrapper peerAdvice =
      Advice.to(PeerAdvice.class)
          .on(named("remoteAddress").or(named("getRemoteAddress")).and(takesArguments(0)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(peerAdvice);
  }

  static final class PeerAdvice {
    private PeerAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(
        @Advice.FieldValue(value = "localAddress", readOnly = true) SocketAddress local,
        @Advice.Return(readOnly = false) SocketAddress remote) {
      if (remote != null && !BypassGuard.active()) {
        remote = LayerBridge.peerFor(local, remote);
      }
    }
  }
}
