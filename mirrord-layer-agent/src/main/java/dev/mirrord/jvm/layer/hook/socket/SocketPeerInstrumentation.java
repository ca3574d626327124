package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.InetAddress;
import java.net.Socket;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code java.net.Socket#getInetAddress()} and {@code #getPort()} (hence {@code
 * getRemoteSocketAddress()}): the peer of classic sockets from {@code ServerSocket.accept()}. NIO
 * adaptors override these and are covered by {@link AcceptedPeerInstrumentation}.
 */
public final class SocketPeerInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "java.net.Socket";

  private final AsmVisitorWrapper addressAdvice =
      Advice.to(AddressAdvice.class).on(named("getInetAddress").and(takesArguments(0)));
  private final AsmVisitorWrapper portAdvice =
      Advice.to(PortAdvice.class).on(named("getPort").and(takesArguments(0)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(addressAdvice).visit(portAdvice);
  }

  static final class AddressAdvice {
    private AddressAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Socket self, @Advice.Return(readOnly = false) InetAddress address) {
      if (address != null && !BypassGuard.active()) {
        address = LayerBridge.peerAddressFor(self, address);
      }
    }
  }

  static final class PortAdvice {
    private PortAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Socket self, @Advice.Return(readOnly = false) int port) {
      if (port > 0 && !BypassGuard.active()) {
        port = LayerBridge.peerPortFor(self, port);
      }
    }
  }
}
