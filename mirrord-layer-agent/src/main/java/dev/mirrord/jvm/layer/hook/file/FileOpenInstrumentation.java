package dev.mirrord.jvm.layer.hook.file;

import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Read-only opens of the app, where the path is still a Java value and the native {@code open} is
 * next: {@link LayerBridge#openForRead} may give another file to open (the target's resolver files,
 * see {@code FileOps}). These are the JDK's own "wrap native call to allow instrumentation" points;
 * every library that reads {@code /etc/resolv.conf} or {@code /etc/hosts} through {@code java.io} or
 * {@code java.nio.file} ends in one of them:
 *
 * <ul>
 *   <li>{@code java.io.FileInputStream#open(String)}: {@code FileInputStream}, {@code FileReader}
 *       (Netty's {@code ResolvConf}, {@code UnixResolverDnsServerAddressStreamProvider}, {@code
 *       HostsFileEntriesProvider}; the JDK's {@code sun.net.dns.ResolverConfigurationImpl} behind
 *       JNDI's {@code dns:} provider);
 *   <li>{@code java.io.RandomAccessFile#open(String, int)}, mode {@code "r"} only;
 *   <li>{@code sun.nio.fs.UnixNativeDispatcher#open(UnixPath, int, int)}, flags {@code O_RDONLY}
 *       only: {@code Files.newInputStream/newBufferedReader/readAllBytes/readAllLines/readString/
 *       lines}, {@code FileChannel.open} (dnsjava's {@code ResolvConfResolverConfigProvider} and
 *       {@code HostsFileParser}). The path is a {@code sun.nio.fs.UnixPath}, a type the advice
 *       cannot name: it travels as {@code Object} and is cast back where it is written.
 * </ul>
 *
 * The fields that remember a stream's path ({@code FileInputStream.path}) keep the name the app
 * gave, so its error messages and {@code getChannel()} look as without mirrord.
 */
public final class FileOpenInstrumentation {
  private FileOpenInstrumentation() {}

  /** The hooked types, for {@code LayerInstaller#hooks}: one per instrumentation of {@link #all()}. */
  public static List<String> types() {
    return List.of("java.io.FileInputStream", "java.io.RandomAccessFile", "sun.nio.fs.UnixNativeDispatcher");
  }

  /** The three open points. */
  public static List<TypeInstrumentation> all() {
    return List.of(
        simple(
            "java.io.FileInputStream",
            Advice.to(StreamOpenAdvice.class)
                .on(named("open").and(takesArguments(String.class)))),
        simple(
            "java.io.RandomAccessFile",
            Advice.to(RandomAccessOpenAdvice.class)
                .on(named("open").and(takesArguments(String.class, int.class)))),
        simple(
            "sun.nio.fs.UnixNativeDispatcher",
            Advice.to(NativeOpenAdvice.class)
                .on(named("open").and(isStatic()).and(takesArguments(3))
                    .and(takesArgument(0, named("sun.nio.fs.UnixPath"))))));
  }

  private static TypeInstrumentation simple(String type, AsmVisitorWrapper advice) {
    return TypeInstrumentation.of(type, "file-open hook", advice);
  }

  static final class StreamOpenAdvice {
    private StreamOpenAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.Argument(value = 0, readOnly = false) String name) {
      name = LayerBridge.openForRead(name);
    }
  }

  static final class RandomAccessOpenAdvice {
    private RandomAccessOpenAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(
        @Advice.Argument(value = 0, readOnly = false) String name, @Advice.Argument(1) int mode) {
      name = LayerBridge.openForRead(name, mode);
    }
  }

  static final class NativeOpenAdvice {
    private NativeOpenAdvice() {}

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(
        @Advice.Argument(value = 0, readOnly = false, typing = Assigner.Typing.DYNAMIC) Object path,
        @Advice.Argument(1) int flags) {
      path = LayerBridge.openForRead(path, flags);
    }
  }
}
