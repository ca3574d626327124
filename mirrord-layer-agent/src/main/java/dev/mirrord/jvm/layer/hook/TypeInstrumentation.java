package dev.mirrord.jvm.layer.hook;

import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * One hooked type: which type, and which advice goes into which of its methods. Advice classes are
 * nested in the implementation, static, stateless, inlined ({@code @Advice.OnMethodEnter/Exit} with
 * {@code suppress = Throwable.class}), and reference only JDK and {@code layer.bootstrap} types: they
 * end up inside JDK classes loaded by the bootstrap class loader.
 */
public interface TypeInstrumentation {

  /** The type(s) to transform. */
  ElementMatcher<TypeDescription> typeMatcher();

  /** Adds this instrumentation's advice to {@code builder}. */
  DynamicType.Builder<?> transform(DynamicType.Builder<?> builder);

  /** The type named {@code type} with {@code advice}; {@code what} is its {@code toString}. */
  static TypeInstrumentation of(String type, String what, AsmVisitorWrapper... advice) {
    return new TypeInstrumentation() {
      @Override
      public ElementMatcher<TypeDescription> typeMatcher() {
        return net.bytebuddy.matcher.ElementMatchers.named(type);
      }

      @Override
      public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder) {
        DynamicType.Builder<?> b = builder;
        for (AsmVisitorWrapper a : advice) {
          b = b.visit(a);
        }
        return b;
      }

      @Override
      public String toString() {
        return what + " of " + type;
      }
    };
  }
}
