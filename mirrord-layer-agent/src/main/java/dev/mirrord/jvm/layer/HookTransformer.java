package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;

/**
 * The layer's one {@link ClassFileTransformer}. Every class the JVM loads passes here; all but the
 * hooked ones (an exact set of names, looked up before anything else) leave at once. A hooked
 * class comes from the {@link HookCache} when it holds the hook for exactly these bytes, else from
 * Byte Buddy (built on first need by {@link Engine}) and goes into the cache for the next JVM.
 * Nothing here throws into the JVM: a failure leaves that class as the JDK made it, with one log
 * line.
 */
final class HookTransformer implements ClassFileTransformer {

  /** Byte Buddy's transformer, built when the cache cannot answer; null if it cannot be built. */
  interface Engine {
    ClassFileTransformer transformer();

    /** Whether Byte Buddy reported an error for the current thread's last transformation. */
    boolean failedLast();
  }

  private final Set<String> internalNames;
  private final HookCache cache;
  private final Engine engine;
  private final Instrumentation inst;
  private final Module bridgeModule;
  private final LayerLog log;
  private volatile boolean engineUsed;

  /**
   * @param internalNames the hooked types, as the JVM names them ({@code java/net/Socket})
   * @param cache the cache, or null
   * @param bridgeModule the module of {@code LayerBridge}, which a hooked class's module must read
   */
  HookTransformer(
      Set<String> internalNames,
      HookCache cache,
      Engine engine,
      Instrumentation inst,
      Module bridgeModule,
      LayerLog log) {
    this.internalNames = internalNames;
    this.cache = cache;
    this.engine = engine;
    this.inst = inst;
    this.bridgeModule = bridgeModule;
    this.log = log;
  }

  /** Whether Byte Buddy had to hook a class in this JVM (the cache missed at least once). */
  boolean engineUsed() {
    return engineUsed;
  }

  @Override
  public byte[] transform(
      Module module,
      ClassLoader loader,
      String className,
      Class<?> classBeingRedefined,
      ProtectionDomain protectionDomain,
      byte[] classfileBuffer) {
    if (className == null || !internalNames.contains(className)) {
      return null;
    }
    String name = className.replace('/', '.');
    try {
      if (cache != null) {
        HookCache.Lookup found = cache.lookup(name, classfileBuffer);
        if (found.status() == HookCache.Status.HIT) {
          if (found.bytes() != null) {
            readEdge(module);
            log.info(
                "hooked " + name + (classBeingRedefined != null ? " (retransformed)" : "") + " (cached)");
          }
          return found.bytes();
        }
        if (found.status() == HookCache.Status.CORRUPT) {
          log.warn(
              "hook cache: ignored the damaged entry for "
                  + name
                  + " ("
                  + found.problem()
                  + "); Byte Buddy hooks it and the entry is rebuilt");
        }
      }
      ClassFileTransformer bb = engine.transformer();
      if (bb == null) {
        return null; // the engine logged why
      }
      engineUsed = true;
      byte[] out =
          bb.transform(module, loader, className, classBeingRedefined, protectionDomain, classfileBuffer);
      if (cache != null && !engine.failedLast()) {
        cache.store(name, classfileBuffer, out);
      }
      return out;
    } catch (Throwable t) {
      log.error("could not hook " + name + "; it keeps its JDK behaviour", t);
      return null;
    }
  }

  /**
   * Advice calls {@code LayerBridge} in the boot loader's unnamed module, which {@code java.base}
   * does not read by default (Byte Buddy adds the edge itself when it transforms).
   */
  private void readEdge(Module module) {
    if (module != null && module.isNamed() && !module.canRead(bridgeModule)) {
      inst.redefineModule(module, Set.of(bridgeModule), Map.of(), Map.of(), Set.of(), Map.of());
    }
  }
}
