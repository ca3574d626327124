package dev.mirrord.jvm.layer;

import java.util.function.ToIntFunction;

/**
 * Registers a task in the last free slot of {@code java.lang.Shutdown}, through {@code
 * jdk.internal.access.JavaLangAccess#registerShutdownHook(slot, false, task)}: the slot it took, or
 * -1 if none was free. The slots run one after the other, the app's hooks all in slot 1 (see {@code
 * AfterAppShutdownHooks}).
 *
 * <p>Loaded by name by {@code AfterAppShutdownHooks} once {@code java.base} exports {@code
 * jdk.internal.access} to the layer's module; never referenced. Compiled on its own with that
 * package exported ({@code src/main/java-internal}, as {@code BootDefiner}): a plain call, where
 * {@code Method.invoke} with three arguments spun method-handle classes in the app's cold JVM,
 * ~25 ms of its start. The method has had this signature since JDK 9.
 */
public final class ShutdownSlots implements ToIntFunction<Runnable> {
  /** {@code java.lang.Shutdown}'s slots: 0–2 are the JDK's (console, app hooks, delete-on-exit). */
  static final int FIRST_FREE_SLOT = 3;

  static final int LAST_SLOT = 9;

  @Override
  public int applyAsInt(Runnable task) {
    jdk.internal.access.JavaLangAccess access = jdk.internal.access.SharedSecrets.getJavaLangAccess();
    for (int slot = LAST_SLOT; slot >= FIRST_FREE_SLOT; slot--) {
      try {
        access.registerShutdownHook(slot, false, task);
        return slot;
      } catch (InternalError taken) {
        // the slot is taken: the next one down
      }
    }
    return -1;
  }
}
