package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.internal.LayerLog;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

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

    /**
     * Hooks the JDK's hooked classes from their class files (the bytes the JVM hands over when it
     * loads them) into {@code cache}, so that the next JVM finds them there.
     */
    void prepare(Set<String> internalNames, HookCache cache);
  }

  private final Set<String> internalNames;
  private final HookCache cache;
  private final Engine engine;
  private final Instrumentation inst;
  private final Module bridgeModule;
  private final LayerLog log;
  private volatile boolean engineUsed;
  /** The hooked classes this transformer has seen (hooked, or found unchanged). */
  private final Set<String> handled = ConcurrentHashMap.newKeySet();
  private volatile boolean installed;

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

  /** Whether {@code c} is one of the hooked types. */
  boolean hooks(Class<?> c) {
    return internalNames.contains(c.getName().replace('.', '/'));
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
    boolean engineWasUsed = engineUsed;
    try {
      if (cache != null) {
        HookCache.Lookup found = cache.lookup(name, classfileBuffer);
        if (found.status() == HookCache.Status.HIT) {
          handled.add(className);
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
      handled.add(className);
      if (cache != null && !engine.failedLast()) {
        cache.store(name, classfileBuffer, out);
      }
      return out;
    } catch (Throwable t) {
      log.error("could not hook " + name + "; it keeps its JDK behaviour", t);
      return null;
    } finally {
      if (installed && !engineWasUsed && engineUsed) {
        // Byte Buddy just started, inside the app's loading of a class; another thread hooks what it loaded
        Thread rehook = new Thread(this::retransformUnhandled, "mirrord-layer-rehook");
        rehook.setDaemon(true);
        rehook.start();
      }
    }
  }

  /**
   * Retransforms the hooked classes that are loaded but never passed here: the JVM does not call
   * transformers for classes loaded during a transformation, and Byte Buddy's start-up inside one
   * loads some (e.g. {@code ServerSocket}, named by its advice, while it hooks {@code Socket}).
   */
  void retransformUnhandled() {
    for (Class<?> c : inst.getAllLoadedClasses()) {
      String internal = c.getName().replace('.', '/');
      if (internalNames.contains(internal) && !handled.contains(internal) && inst.isModifiableClass(c)) {
        try {
          inst.retransformClasses(c);
        } catch (Throwable t) {
          log.error("could not hook " + c.getName() + "; it keeps its JDK behaviour", t);
        }
      }
    }
  }

  /**
   * The layer's start-up is over: hooks what Byte Buddy's start loaded unhooked, and if Byte Buddy
   * was needed, prepares the cache for the next JVM; from now on a late start of Byte Buddy (a
   * class the cache did not know, loaded by the app) is followed by {@link #retransformUnhandled}
   * on a thread of its own.
   */
  void finishStartup() {
    retransformUnhandled();
    if (cache != null && engineUsed) {
      engine.prepare(internalNames, cache);
      retransformUnhandled();
    }
    installed = true;
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
