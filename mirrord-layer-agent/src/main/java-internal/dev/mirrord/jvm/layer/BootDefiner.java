package dev.mirrord.jvm.layer;

import java.util.function.BiFunction;

/**
 * Defines a class straight in the boot class loader, through {@code
 * jdk.internal.misc.Unsafe#defineClass(name, bytes, off, len, null, null)}.
 *
 * <p>Never loaded by the system class loader: {@code BootstrapInjector} loads it in a throwaway
 * class loader whose unnamed module alone gets {@code java.base/jdk.internal.misc} exported, so
 * neither the app nor the rest of the layer gains access to JDK internals. Public only so that
 * loader can instantiate it.
 *
 * <p>Compiled on its own ({@code src/main/java-internal}, see the module's pom) for Java 17 with
 * {@code --add-exports java.base/jdk.internal.misc}, which {@code --release} does not allow: the
 * call is then a plain method call. Through core reflection ({@code Method.invoke} with six
 * arguments) the first definition spun method handle classes in the app's cold JVM, 25–30 ms of
 * its start. {@code Unsafe.defineClass} has had this signature since JDK 9.
 */
public final class BootDefiner implements BiFunction<String, byte[], Class<?>> {
  private final jdk.internal.misc.Unsafe unsafe = jdk.internal.misc.Unsafe.getUnsafe();

  @Override
  public Class<?> apply(String binaryName, byte[] bytes) {
    return unsafe.defineClass(binaryName, bytes, 0, bytes.length, null, null);
  }
}
