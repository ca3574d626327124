package dev.mirrord.jvm.layer.hook.dns;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.stream.Stream;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * JDK 18+: {@code java.net.InetAddress$PlatformResolver#lookupByName(String, LookupPolicy)}, the
 * built-in resolver {@code InetAddress} calls on a cache miss (an app's own {@code
 * InetAddressResolverProvider}, or {@code jdk.net.hosts.file}, replaces it and is left alone). The
 * policy travels as {@code Object}: the layer compiles against JDK 17, which has no {@code
 * java.net.spi.InetAddressResolver}.
 */
public final class ResolverInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "java.net.InetAddress$PlatformResolver";

  private final AsmVisitorWrapper lookupAdvice =
      Advice.to(LookupAdvice.class).on(named("lookupByName").and(takesArguments(2)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(lookupAdvice);
  }

  /** See {@link NameServiceInstrumentation.LookupAdvice}: the same, returning a stream. */
  static final class LookupAdvice {
    private LookupAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static Stream<InetAddress> enter(
        @Advice.Argument(0) String host, @Advice.Argument(1) Object policy)
        throws UnknownHostException {
      return LayerBridge.lookupByName(host, policy);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(
        @Advice.Enter Stream<InetAddress> answer,
        @Advice.Return(readOnly = false) Stream<InetAddress> result) {
      if (answer != null) {
        result = answer;
      }
    }
  }
}
