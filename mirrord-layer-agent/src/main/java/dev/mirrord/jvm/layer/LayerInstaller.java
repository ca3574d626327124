package dev.mirrord.jvm.layer;

import static net.bytebuddy.matcher.ElementMatchers.isSynthetic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;

import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import dev.mirrord.jvm.layer.hook.dns.NameServiceInstrumentation;
import dev.mirrord.jvm.layer.hook.dns.ResolverInstrumentation;
import dev.mirrord.jvm.layer.hook.file.FileOpenInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.AcceptedPeerInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.NettyDatagramInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.NettyEpollInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.OutgoingInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.ServerSocketChannelInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.SocketPeerInstrumentation;
import dev.mirrord.jvm.layer.hook.socket.ServerSocketInstrumentation;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

/**
 * Installs the layer's hooks: one {@link HookTransformer} in front of one Byte Buddy {@link
 * AgentBuilder}.
 *
 * <ul>
 *   <li>{@link #hooks()} names every hooked type exactly; the transformer ignores all others by a
 *       set lookup, and only the loaded ones among them are retransformed (no scan of matchers
 *       over every loaded class);
 *   <li>a hooked class comes from the {@link HookCache} when an earlier JVM of this JDK and layer
 *       build hooked the same bytes; Byte Buddy is loaded only when the cache cannot answer, and
 *       then also prepares the JDK's hooked classes that are not loaded yet, for the next JVM;
 *   <li>{@code disableClassFormatChanges()}: advice is inlined, so JDK classes already loaded (e.g.
 *       {@code ServerSocket} used by the JVM itself) are retransformed in place, without new fields
 *       or methods;
 *   <li>each transformed module gets a read edge to the bootstrap class loader's unnamed module,
 *       where {@code LayerBridge} lives: {@code java.base} does not read it by default;
 *   <li>errors go to the layer log, never to the app.
 * </ul>
 */
public final class LayerInstaller {

  private LayerInstaller() {}

  /**
   * A hook: the exact names of the types it changes, and the class that makes its Byte Buddy
   * instrumentations, called only when Byte Buddy is needed (building them loads it): an
   * instrumentation's no-argument constructor ({@link #of}) or a class's static {@code all()}
   * ({@link #all}). Classes rather than method references: the hooks are listed in every premain,
   * and linking a method reference costs ~0.5 ms of the app's cold JVM each (JDK 25), for
   * factories that run only when the hook cache misses.
   */
  public record Hook(List<String> typeNames, Class<?> factory) {
    public Hook {
      typeNames = List.copyOf(typeNames);
    }

    /** One instrumentation of one type: {@code instrumentation}'s public no-argument constructor. */
    public static Hook of(String typeName, Class<? extends TypeInstrumentation> instrumentation) {
      return new Hook(List.of(typeName), instrumentation);
    }

    /**
     * Several instrumentations, from {@code factory}'s {@code public static List<TypeInstrumentation> all()};
     * {@code typeNames} lists every type any of them matches.
     */
    public static Hook all(List<String> typeNames, Class<?> factory) {
      return new Hook(typeNames, factory);
    }

    /** Builds the instrumentations (loads Byte Buddy). */
    @SuppressWarnings("unchecked")
    public List<TypeInstrumentation> instrumentations() {
      try {
        if (TypeInstrumentation.class.isAssignableFrom(factory)) {
          return List.of((TypeInstrumentation) factory.getConstructor().newInstance());
        }
        return (List<TypeInstrumentation>) factory.getMethod("all").invoke(null);
      } catch (java.lang.reflect.InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("the hook factory " + factory.getName() + " failed", cause);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("the hook factory " + factory.getName() + " cannot be called", e);
      }
    }
  }

  /**
   * The hooks this build installs. A new hook is one line here: its type's exact name (a constant
   * of the instrumentation) and its class, e.g. {@code Hook.of(FooInstrumentation.TYPE,
   * FooInstrumentation.class)}. {@code LayerInstallerTest} checks that each instrumentation matches
   * exactly the names given.
   */
  public static List<Hook> hooks() {
    List<Hook> all = new ArrayList<>();
    all.add(Hook.of(ServerSocketInstrumentation.TYPE, ServerSocketInstrumentation.class));
    all.add(Hook.of(ServerSocketChannelInstrumentation.TYPE, ServerSocketChannelInstrumentation.class));
    all.add(Hook.of(AcceptedPeerInstrumentation.TYPE, AcceptedPeerInstrumentation.class));
    all.add(Hook.of(SocketPeerInstrumentation.TYPE, SocketPeerInstrumentation.class));
    all.add(Hook.all(NettyEpollInstrumentation.types(), NettyEpollInstrumentation.class));
    all.add(Hook.all(OutgoingInstrumentation.types(), OutgoingInstrumentation.class));
    all.add(Hook.of(NameServiceInstrumentation.TYPE, NameServiceInstrumentation.class));
    all.add(Hook.of(ResolverInstrumentation.TYPE, ResolverInstrumentation.class));
    all.add(Hook.all(FileOpenInstrumentation.types(), FileOpenInstrumentation.class));
    all.add(Hook.all(NettyDatagramInstrumentation.types(), NettyDatagramInstrumentation.class));
    return List.copyOf(all);
  }

  /** Every instrumentation of {@link #hooks()} (builds them: loads Byte Buddy). */
  public static List<TypeInstrumentation> instrumentations() {
    List<TypeInstrumentation> all = new ArrayList<>();
    for (Hook h : hooks()) {
      all.addAll(h.instrumentations());
    }
    return List.copyOf(all);
  }

  /**
   * Installs {@code hooks} on {@code inst}, using and filling the hook cache under {@code cacheRoot}
   * (null: no cache), and retransforms the hooked classes that are already loaded. Throws only if
   * the transformer cannot be registered.
   */
  public static HookTransformer install(
      Instrumentation inst, List<Hook> hooks, Path cacheRoot, LayerLog log) {
    Set<String> internalNames = new HashSet<>();
    for (Hook h : hooks) {
      for (String n : h.typeNames()) {
        internalNames.add(n.replace('.', '/'));
      }
    }
    HookCache cache = HookCache.forBuild(cacheRoot, LayerBuild.ID, log);
    LazyEngine engine = new LazyEngine(inst, hooks, log);
    if (cache == null) {
      engine.transformer(); // no cache to answer: Byte Buddy first (its advice loads hooked JDK classes)
    }
    HookTransformer transformer =
        new HookTransformer(
            Set.copyOf(internalNames), cache, engine, inst, LayerBridge.class.getModule(), log);
    inst.addTransformer(transformer, true);
    List<Class<?>> loaded = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      String n = c.getName();
      if (internalNames.contains(n.replace('.', '/')) && inst.isModifiableClass(c)) {
        loaded.add(c);
      }
    }
    for (Class<?> c : loaded) {
      try {
        inst.retransformClasses(c);
      } catch (Throwable t) {
        log.error("could not hook " + c.getName() + "; it keeps its JDK behaviour", t);
      }
    }
    transformer.retransformUnhandled();
    log.debug(
        "hooks installed: "
            + loaded.size()
            + " loaded classes retransformed, "
            + (cache == null ? "no hook cache" : "hook cache " + cache.dir()));
    return transformer;
  }

  /**
   * The end of the layer's start-up (its own connection is up, the app's {@code main} comes next):
   * hooks what Byte Buddy's start, if it happened, loaded unhooked, prepares the cache for the next
   * JVM, and logs whether Byte Buddy was needed at all.
   */
  static void finish(HookTransformer transformer, LayerLog log) {
    transformer.finishStartup();
    log.debug(transformer.engineUsed() ? "hooks ready; Byte Buddy loaded" : "hooks ready; Byte Buddy not needed");
  }

  /**
   * Takes the hooks out again (the layer could not connect): removes the transformer and
   * retransforms the hooked classes back to the JDK's own.
   */
  static void uninstall(Instrumentation inst, HookTransformer transformer, LayerLog log) {
    inst.removeTransformer(transformer);
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (transformer.hooks(c) && inst.isModifiableClass(c)) {
        try {
          inst.retransformClasses(c);
        } catch (Throwable t) {
          log.debug("could not unhook " + c.getName() + ": " + t);
        }
      }
    }
  }

  /** Byte Buddy, built on first need: the instrumentations' advice, the agent builder. */
  static final class LazyEngine implements HookTransformer.Engine {
    private final Instrumentation inst;
    private final List<Hook> hooks;
    private final LayerLog log;
    /** Per thread: [0] Byte Buddy reported an error for the last transformation, [1] preparing, not hooking. */
    private final ThreadLocal<boolean[]> failed =
        new ThreadLocal<>() { // not withInitial's lambda: made in every premain (Hook says why)
          @Override
          protected boolean[] initialValue() {
            return new boolean[2];
          }
        };
    private ClassFileTransformer transformer;
    private boolean broken;

    LazyEngine(Instrumentation inst, List<Hook> hooks, LayerLog log) {
      this.inst = inst;
      this.hooks = hooks;
      this.log = log;
    }

    @Override
    public synchronized ClassFileTransformer transformer() {
      if (transformer == null && !broken) {
        try {
          long t0 = System.nanoTime();
          List<TypeInstrumentation> instrumentations = new ArrayList<>();
          for (Hook h : hooks) {
            try {
              instrumentations.addAll(h.instrumentations());
            } catch (RuntimeException | LinkageError e) {
              log.error("could not build the hooks of " + h.typeNames() + "; they keep their JDK behaviour", e);
            }
          }
          transformer = builder(instrumentations).makeRaw();
          log.debug("Byte Buddy ready in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (RuntimeException | LinkageError e) {
          broken = true;
          log.error("cannot build the layer's hooks", e);
        }
      }
      failed.get()[0] = false;
      return transformer;
    }

    @Override
    public boolean failedLast() {
      return failed.get()[0];
    }

    private AgentBuilder builder(List<TypeInstrumentation> instrumentations) {
      useByteBuddyWithoutUnsafe();
      AgentBuilder builder =
          new AgentBuilder.Default()
              .disableClassFormatChanges()
              .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
              .with(new LoggingListener(log, failed))
              .ignore(
                  nameStartsWith("dev.mirrord.jvm.layer.")
                      .or(nameStartsWith("net.bytebuddy."))
                      .or(isSynthetic()))
              .assureReadEdgeTo(inst, LayerBridge.class);
      for (TypeInstrumentation ti : instrumentations) {
        builder =
            builder
                .type(ti.typeMatcher())
                .transform(
                    (DynamicType.Builder<?> b,
                        TypeDescription type,
                        ClassLoader loader,
                        JavaModule module,
                        java.security.ProtectionDomain pd) -> ti.transform(b));
        // Not terminal (Byte Buddy's default): several instrumentations may hook one class (e.g.
        // SocketChannelImpl's peer and connect), and every matching one applies.
      }
      return builder;
    }

    /**
     * After a JVM that needed Byte Buddy: hooks the JDK's hooked classes that are not loaded yet
     * from their class files (the bytes the JVM will hand over when it loads them), so that the
     * next JVM finds them in the cache instead of loading Byte Buddy at that moment.
     */
    @Override
    public void prepare(Set<String> internalNames, HookCache cache) {
      ClassFileTransformer bb = transformer();
      if (bb == null) {
        return;
      }
      for (String internal : internalNames) {
        byte[] bytes;
        try (java.io.InputStream in = Object.class.getResourceAsStream("/" + internal + ".class")) {
          if (in == null) {
            continue; // not a JDK class (Netty), or not in this JDK
          }
          bytes = in.readAllBytes();
        } catch (java.io.IOException | RuntimeException e) {
          continue;
        }
        String name = internal.replace('/', '.');
        if (cache.lookup(name, bytes).status() == HookCache.Status.HIT) {
          continue;
        }
        boolean[] state = failed.get();
        try {
          state[0] = false;
          state[1] = true;
          byte[] out = bb.transform(Object.class.getModule(), null, internal, null, null, bytes);
          if (!state[0]) {
            cache.store(name, bytes, out);
          }
        } catch (Throwable t) {
          log.debug("hook cache: cannot prepare " + name + ": " + t);
        } finally {
          state[1] = false;
        }
      }
    }
  }

  /**
   * Byte Buddy's safe mode: no {@code sun.misc.Unsafe} (JDK 24+ would print warnings on the app's
   * stderr; inlined advice needs no class injection anyway). The property is named after the
   * package Byte Buddy really lives in, so it is {@code dev.mirrord.jvm.layer.shaded.net.bytebuddy
   * .safe} in the shaded jar (Byte Buddy reads that relocated name) and never touches an app's own
   * Byte Buddy.
   */
  static void useByteBuddyWithoutUnsafe() {
    String property = AgentBuilder.class.getPackageName().replace(".agent.builder", "") + ".safe";
    if (System.getProperty(property) == null) {
      System.setProperty(property, "true");
    }
  }

  /** Byte Buddy's events, into the layer log; an error also marks the thread's transformation as failed. */
  static final class LoggingListener extends AgentBuilder.Listener.Adapter {
    private final LayerLog log;
    private final ThreadLocal<boolean[]> failed;

    LoggingListener(LayerLog log, ThreadLocal<boolean[]> failed) {
      this.log = log;
      this.failed = failed;
    }

    @Override
    public void onTransformation(
        TypeDescription type,
        ClassLoader loader,
        JavaModule module,
        boolean loaded,
        DynamicType dynamicType) {
      if (failed.get()[1]) {
        log.debug("hook cache: prepared " + type.getName());
      } else {
        log.info("hooked " + type.getName() + (loaded ? " (retransformed)" : ""));
      }
    }

    @Override
    public void onError(
        String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
      failed.get()[0] = true;
      if (failed.get()[1]) {
        log.debug("hook cache: cannot prepare " + typeName + ": " + error);
        return;
      }
      log.error("could not hook " + typeName + "; it keeps its JDK behaviour", error);
    }
  }
}
