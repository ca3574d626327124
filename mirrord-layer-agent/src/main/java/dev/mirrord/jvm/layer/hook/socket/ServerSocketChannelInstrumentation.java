package dev.mirrord.jvm.layer.hook.socket;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code sun.nio.ch.ServerSocketChannelImpl#bind(SocketAddress, int)} (JDK 17 through 25): NIO
 * server channels, Netty's NIO transport, {@code com.sun.net.httpserver}, and the adaptor returned
 * by {@code ServerSocketChannel.socket()}. Reports the bound port after a successful bind; Unix
 * domain channels report port -1 and are left alone by the ops.
 */
public final class ServerSocketChannelInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "sun.nio.ch.ServerSocketChannelImpl";

  /**
   * Built here, not in {@link #transform}: resolving the advice loads the hooked type, which must
   * not happen while that very type is being loaded (ClassCircularityError).
   */
  private final AsmVisitorWrapper bindAdvice =
      Advice.to(BindAdvice.class).on(named("bind").and(takesArguments(SocketAddress.class, int.class)));

  private final AsmVisitorWrapper closeAdvice =
      Advice.to(CloseAdvice.class).on(named("implCloseSelectableChannel").and(takesArguments(0)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(bindAdvice).visit(closeAdvice);
  }

  /** Runs only when {@code bind} returned normally (its lock is released by then). */
  static final class BindAdvice {
    private BindAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(
        @Advice.This ServerSocketChannel self, @Advice.Argument(0) SocketAddress requested)
        throws Exception {
      if (!BypassGuard.active()) {
        LayerBridge.onListen(requested, LayerBridge.portOf(self.getLocalAddress()));
      }
    }
  }

  /**
   * {@code implCloseSelectableChannel} runs once, after the channel is marked closed (so {@code
   * getLocalAddress()} would throw): the bound address is read from the field itself.
   */
  static final class CloseAdvice {
    private CloseAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.FieldValue(value = "localAddress", readOnly = true) Object local) {
      if (!BypassGuard.active()) {
        LayerBridge.onListenClosed(LayerBridge.portOf((SocketAddress) local));
      }
    }
  }
}
