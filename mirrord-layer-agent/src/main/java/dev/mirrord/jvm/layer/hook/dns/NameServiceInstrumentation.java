package dev.mirrord.jvm.layer.hook.dns;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.net.InetAddress;
import java.net.UnknownHostException;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * JDK 17: {@code java.net.InetAddress$PlatformNameService#lookupAllHostAddr(String)}, the built-in
 * name service {@code InetAddress} calls on a cache miss (a {@code jdk.net.hosts.file} JVM uses
 * another one and is left alone). A non-null answer from {@code LayerBridge} replaces the JDK's
 * lookup; an {@code UnknownHostException} from it is the app's.
 */
public final class NameServiceInstrumentation implements TypeInstrumentation {
  /** The hooked type (for the installer's list: see {@code LayerInstaller#hooks}). */
  public static final String TYPE = "java.net.InetAddress$PlatformNameService";

  private final AsmVisitorWrapper lookupAdvice =
      Advice.to(LookupAdvice.class)
          .on(named("lookupAllHostAddr").and(takesArguments(String.class)));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named(TYPE);
  }

  @Override
  public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
    return builder.visit(lookupAdvice);
  }

  /**
   * Not {@code suppress = Throwable.class} on enter: the target's "no such name" must reach the app
   * as {@code UnknownHostException}; {@code LayerBridge} throws nothing else.
   */
  static final class LookupAdvice {
    private LookupAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static InetAddress[] enter(@Advice.Argument(0) String host) throws UnknownHostException {
      return LayerBridge.lookupAllHostAddr(host);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(
        @Advice.Enter InetAddress[] answer,
        @Advice.Return(readOnly = false) InetAddress[] result) {
      if (answer != null) {
        result = answer;
      }
    }
  }
}
