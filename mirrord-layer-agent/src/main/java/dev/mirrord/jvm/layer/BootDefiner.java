package dev.mirrord.jvm.layer;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.function.BiFunction;

/**
 * Defines a class straight in the boot class loader, through {@code
 * jdk.internal.misc.Unsafe#defineClass(name, bytes, off, len, null, null)}.
 *
 * <p>Never loaded by the system class loader: {@link BootstrapInjector} loads it in a throwaway
 * class loader whose unnamed module alone gets {@code java.base/jdk.internal.misc} exported, so
 * neither the app nor the rest of the layer gains access to JDK internals. Public only so that
 * loader can instantiate it; it references {@code java.*} types only.
 */
public final class BootDefiner implements BiFunction<String, byte[], Class<?>> {
  private final Object unsafe;
  private final Method defineClass;

  public BootDefiner() throws ReflectiveOperationException {
    Class<?> type = Class.forName("jdk.internal.misc.Unsafe");
    unsafe = type.getMethod("getUnsafe").invoke(null);
    defineClass =
        type.getMethod(
            "defineClass",
            String.class,
            byte[].class,
            int.class,
            int.class,
            ClassLoader.class,
            ProtectionDomain.class);
  }

  @Override
  public Class<?> apply(String binaryName, byte[] bytes) {
    try {
      return (Class<?>) defineClass.invoke(unsafe, binaryName, bytes, 0, bytes.length, null, null);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("cannot define " + binaryName, e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot define " + binaryName, e);
    }
  }
}
