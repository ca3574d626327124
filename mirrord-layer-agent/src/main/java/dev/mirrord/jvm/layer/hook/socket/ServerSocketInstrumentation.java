package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.ServerSocket;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code java.net.ServerSocket#bind(SocketAddress, int)}: every classic server socket passes here
 * (the constructors that take a port call it). Reports the bound port after a successful bind.
 * {@code ServerSocketChannel.socket()}'s adaptor overrides this method and binds through the
 * channel, which {@link ServerSocketChannelInstrumentation} reports: no double count.
 */
public final class ServerSocketInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "java.net.ServerSocket";

  /**
   * Built here, not in {@link #transform}: resolving the advice loads the hooked type, which must
   * not happen while that very type is being loaded (ClassCircularityError).
   */
  private final AsmVisitorWrapper bindAdvice =
      Advice.to(BindAdvice.class).on(named("bind").and(takesArguments(SocketAddress.class, int.class)));

  private final AsmVisitorWrapper closeAdvice =
      Advice.to(CloseAdvice.class).on(named("close").and(takesArguments(0)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(bindAdvice).visit(closeAdvice);
  }

  /** Runs only when {@code bind} returned normally. */
  static final class BindAdvice {
    private BindAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This ServerSocket self, @Advice.Argument(0) SocketAddress requested) {
      if (!BypassGuard.active()) {
        LayerBridge.onListen(requested, self.getLocalPort());
      }
    }
  }

  /** Reads the port before {@code close} (it is still bound) and reports it after. */
  static final class CloseAdvice {
    private CloseAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static int enter(@Advice.This ServerSocket self) {
      return self.isClosed() ? -1 : self.getLocalPort();
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.Enter int port) {
      if (port > 0 && !BypassGuard.active()) {
        LayerBridge.onListenClosed(port);
      }
    }
  }
}
