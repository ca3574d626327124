package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.lang.instrument.Instrumentation;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Runs a task once the JVM's shutdown is past every shutdown hook of the app: the layer's connection
 * must serve the app's own hooks (a service deregistering itself, a pool closing its connections),
 * and must be gone before the JVM's last step.
 *
 * <p>Why it matters: the JVM's exit waits up to 300 ms for every thread that is in native code
 * ({@code VM_Exit::wait_for_threads_in_native_to_block}), and the layer's event-loop thread sits in
 * {@code epoll_wait} whenever it is idle. Every JVM under mirrord took 300 ms longer to end than
 * without it; once the task has closed the connection and its thread has ended, it ends as fast.
 *
 * <p>How: an application shutdown hook would run beside the app's, in no order. The JDK's own
 * shutdown sequence has slots that run one after another, the app's hooks all in slot 1 ({@code
 * java.lang.Shutdown}); the task takes the last free slot, through {@code
 * JavaLangAccess.registerShutdownHook} ({@code ShutdownSlots}), which {@link
 * Instrumentation#redefineModule} lets the layer reach. A JVM without that API keeps the 300 ms: the
 * task is not registered as an ordinary hook.
 */
final class AfterAppShutdownHooks {
  /** Compiled apart, against {@code jdk.internal.access} ({@code src/main/java-internal}): named, never referenced. */
  static final String SLOTS_CLASS = "dev.mirrord.jvm.layer.ShutdownSlots";

  private AfterAppShutdownHooks() {}

  /** Registers {@code task}; whether it could (the reason it could not is logged at DEBUG). */
  static boolean register(Instrumentation inst, Runnable task, LayerLog log) {
    try {
      Module base = Object.class.getModule();
      Module self = AfterAppShutdownHooks.class.getModule();
      if (!base.isExported("jdk.internal.access", self)) {
        inst.redefineModule(
            base, Set.of(), Map.of("jdk.internal.access", Set.of(self)), Map.of(), Set.of(), Map.of());
      }
      @SuppressWarnings("unchecked")
      ToIntFunction<Runnable> slots =
          (ToIntFunction<Runnable>)
              Class.forName(SLOTS_CLASS, true, AfterAppShutdownHooks.class.getClassLoader())
                  .getConstructor()
                  .newInstance();
      int slot = slots.applyAsInt(task);
      if (slot >= 0) {
        log.debug("the layer's exit task runs in shutdown slot " + slot + ", after the app's hooks");
        return true;
      }
      log.debug("no free shutdown slot for the layer's exit task");
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.debug("the layer's exit task cannot follow the app's shutdown hooks: " + e);
    }
    return false;
  }
}
