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
import java.lang.instrument.Instrumentation;
import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.agent.builder.ResettableClassFileTransformer;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

/**
 * Builds the layer's one {@link AgentBuilder} and installs every {@link TypeInstrumentation}.
 *
 * <ul>
 *   <li>{@code disableClassFormatChanges()} + {@code RETRANSFORMATION}: advice is inlined, so JDK
 *       classes already loaded (e.g. {@code ServerSocket} used by the JVM itself) are retransformed
 *       in place, without new fields or methods;
 *   <li>the layer's own and shaded packages (and Byte Buddy's) are never transformed;
 *   <li>each transformed module gets a read edge to the bootstrap class loader's unnamed module,
 *       where {@code LayerBridge} lives: {@code java.base} does not read it by default;
 *   <li>errors go to the layer log, never to the app.
 * </ul>
 */
public final class LayerInstaller {

  private LayerInstaller() {}

  /** The hooks this build installs. */
  public static List<TypeInstrumentation> instrumentations() {
    List<TypeInstrumentation> all = new java.util.ArrayList<>();
    all.add(new ServerSocketInstrumentation());
    all.add(new ServerSocketChannelInstrumentation());
    all.add(new AcceptedPeerInstrumentation());
    all.add(new SocketPeerInstrumentation());
    all.addAll(NettyEpollInstrumentation.all());
    all.addAll(OutgoingInstrumentation.all());
    all.add(new NameServiceInstrumentation());
    all.add(new ResolverInstrumentation());
    all.addAll(FileOpenInstrumentation.all());
    all.addAll(NettyDatagramInstrumentation.all());
    return List.copyOf(all);
  }

  /**
   * Installs {@code instrumentations} on {@code inst}; throws only if Byte Buddy itself fails.
   * Create the instrumentations before calling this (their advice resolves JDK types).
   */
  public static ResettableClassFileTransformer install(
      Instrumentation inst, List<TypeInstrumentation> instrumentations, LayerLog log) {
    useByteBuddyWithoutUnsafe();
    AgentBuilder builder =
        new AgentBuilder.Default()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(new LoggingListener(log))
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
    return builder.installOn(inst);
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

  /** Byte Buddy's events, into the layer log. */
  static final class LoggingListener extends AgentBuilder.Listener.Adapter {
    private final LayerLog log;

    LoggingListener(LayerLog log) {
      this.log = log;
    }

    @Override
    public void onTransformation(
        TypeDescription type,
        ClassLoader loader,
        JavaModule module,
        boolean loaded,
        DynamicType dynamicType) {
      log.info("hooked " + type.getName() + (loaded ? " (retransformed)" : ""));
    }

    @Override
    public void onError(
        String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
      log.error("could not hook " + typeName + "; it keeps its JDK behaviour", error);
    }
  }
}
