package dev.mirrord.jvm.e2e.incoming;

import dev.mirrord.jvm.e2e.lab.HostCommand;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.apps.ShaHttpServerApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the incoming-traffic tests (mirror and steal) add to a {@link NetnsLab}:
 *
 * <ul>
 *   <li><b>"Developer machines"</b>: namespaces {@code <prefix>-local}, {@code <prefix>-local2} with only a loopback,
 *       where {@code mirrord exec} and the user's app run. The CLI reaches its agent over a unix socket and the agent
 *       enters the pod's namespace itself, so nothing needs the root namespace; each test's app can listen on the
 *       pod's own port (8080) without clashing with anything else running on this machine. The lab's teardown deletes
 *       them with the rest ({@code lab.sh} removes every {@code <prefix>-*} namespace).
 *   <li><b>Jar snapshot</b>: the three jars are copied once per lab to {@code lab-logs/<prefix>/jars}, so that a
 *       rebuild of the module jars while the tests run (a developer's IDE, {@code bin/mirrord}) cannot swap classes
 *       under a running CLI or agent. The agent jar keeps its name: the agent recognises live agents by it.
 *   <li><b>The pod's keep-alive server</b>: the lab's socat server closes every connection, so keep-alive tests run
 *       {@link ShaHttpServerApp} ({@code hello from pod}, echoes the body's SHA-256) in the pod on {@link
 *       #KEEPALIVE_PORT}.
 * </ul>
 */
final class IncomingLab {
  /** The lab's socat server: {@code hello from pod: METHOD PATH}, {@code Connection: close}. */
  static final int POD_PORT = 8080;
  /** {@link ShaHttpServerApp} in the pod (started by {@link #startPodKeepAliveServer()}): keep-alive, SHA echo. */
  static final int KEEPALIVE_PORT = 8081;
  static final Duration START = Duration.ofSeconds(40);

  private final NetnsLab lab;
  private final Path jarDir;
  private LabProcess podKeepAliveServer;

  IncomingLab(NetnsLab lab) {
    this.lab = lab;
    this.jarDir = lab.logDir().resolve("jars");
    snapshotJars();
  }

  NetnsLab lab() {
    return lab;
  }

  String podIp() {
    return lab.ip(Node.POD);
  }

  /** The namespace {@code <prefix>-<name>} with loopback up, created on first use. */
  synchronized String devNamespace(String name) {
    String ns = lab.prefix() + "-" + name;
    if (!Files.exists(Path.of("/run/netns", ns))) {
      host("ip", "netns", "add", ns);
      host("ip", "-n", ns, "link", "set", "lo", "up");
    }
    return ns;
  }

  /**
   * Copies the three jars; a copy that is not a complete fat jar (caught mid-build: the jar plugin's thin jar before
   * shade replaces it) is retried for up to a minute.
   */
  private void snapshotJars() {
    Map<String, String> entryPoint = Map.of("mirrord-cli", "Main-Class", "mirrord-pod-agent", "Main-Class",
        "mirrord-layer-agent", "Premain-Class");
    try {
      Files.createDirectories(jarDir);
      for (String module : List.of("mirrord-cli", "mirrord-layer-agent", "mirrord-pod-agent")) {
        Path src = LabPaths.jar(module);
        Path dst = jarDir.resolve(module + ".jar");
        for (int attempt = 1; ; attempt++) {
          if (Files.isRegularFile(src)) {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            if (completeJar(dst, entryPoint.get(module))) {
              break;
            }
          }
          if (attempt == 30) {
            throw new IllegalStateException(src + " is missing or incomplete (no " + entryPoint.get(module)
                + "): build it first (mvn -pl " + module + " -am package)");
          }
          Thread.sleep(2000);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean completeJar(Path jar, String attribute) {
    try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
      return f.getManifest() != null && f.getManifest().getMainAttributes().getValue(attribute) != null
          && f.size() > 100;
    } catch (IOException e) {
      return false;
    }
  }

  Path jar(String module) {
    return jarDir.resolve(module + ".jar");
  }

  /**
   * {@code <java> <fast-start flags> -cp <test classes + Netty> main args…}: a test app or client. The classpath is the
   * e2e test classes plus the Netty jars of this JVM's classpath ({@code NettyShaHttpApp} needs them; the others
   * ignore them).
   */
  static List<String> java(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>(List.of(JavaApps.javaExecutable().toString(), "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", classpath(), main.getName()));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  /** Like {@link #java} with C2 and a bigger heap: for load clients, whose own speed must not be the bottleneck. */
  static List<String> javaForLoad(Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>(List.of(JavaApps.javaExecutable().toString(), "-XX:+UseParallelGC",
        "-Xmx512m", "-Xshare:auto", "-cp", classpath(), main.getName()));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  private static String classpath() {
    Set<String> cp = new LinkedHashSet<>();
    cp.add(JavaApps.testClasses().toString());
    for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (Path.of(entry).getFileName() != null && Path.of(entry).getFileName().toString().startsWith("netty-")) {
        cp.add(entry);
      }
    }
    // Surefire/failsafe may hide the real classpath behind a manifest-only jar: add the jars of the Netty classes used.
    for (Class<?> c : List.of(io.netty.util.Version.class, io.netty.buffer.ByteBuf.class,
        io.netty.channel.Channel.class, io.netty.handler.codec.ByteToMessageDecoder.class,
        io.netty.handler.codec.http.HttpServerCodec.class, io.netty.handler.ssl.SslHandler.class,
        io.netty.handler.codec.compression.ZlibEncoder.class, io.netty.resolver.AddressResolver.class)) {
      try {
        cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (Exception e) {
        throw new IllegalStateException("cannot locate the jar of " + c, e);
      }
    }
    return String.join(File.pathSeparator, cp);
  }

  /** Starts {@code mirrord exec <flags> --target pid/<pod> -- <app>} in the dev namespace {@code ns}. */
  MirrordSession mirrord(String ns, List<String> flags, List<String> app) {
    return MirrordSession.start(this, ns, flags, app);
  }

  /** The pod's keep-alive server ({@link ShaHttpServerApp} "pod" on {@link #KEEPALIVE_PORT}); started once. */
  synchronized LabProcess startPodKeepAliveServer() {
    if (podKeepAliveServer == null || !podKeepAliveServer.isAlive()) {
      podKeepAliveServer = lab.startInPod(java(ShaHttpServerApp.class, Integer.toString(KEEPALIVE_PORT), "pod", "900")
          .toArray(String[]::new));
      podKeepAliveServer.awaitStdout("^" + ShaHttpServerApp.READY_PREFIX, START);
    }
    return podKeepAliveServer;
  }

  /** Starts a Java client main in the client namespace. */
  LabProcess client(List<String> command) {
    return lab.exec(Node.CLIENT, Map.of(), command);
  }

  /** One {@code curl} from the client namespace to the pod: the answer's body, or "" if it failed. */
  String curlPod(int port, String path, Duration maxTime) {
    ExecResult r = lab.run(Node.CLIENT, maxTime.plusSeconds(5), "curl", "-sS", "--max-time",
        String.format(Locale.ROOT, "%.3f", maxTime.toMillis() / 1000.0), "http://" + podIp() + ":" + port + path);
    return r.ok() ? r.stdout() : "";
  }

  /** As {@link #curlPod} with one extra request header ({@code "Name: value"}). */
  String curlPodWith(int port, String path, String header, Duration maxTime) {
    ExecResult r = lab.run(Node.CLIENT, maxTime.plusSeconds(5), "curl", "-sS", "--max-time",
        String.format(Locale.ROOT, "%.3f", maxTime.toMillis() / 1000.0), "-H", header,
        "http://" + podIp() + ":" + port + path);
    return r.ok() ? r.stdout() : "";
  }

  /** {@code iptables-save} (every table) in the pod's namespace. */
  String podIptables() {
    ExecResult r = lab.run(Node.POD, Duration.ofSeconds(15), "iptables-save");
    assertThat(r.exitCode()).as("iptables-save in the pod netns: %s", r).isZero();
    return r.stdout();
  }

  /** The lines of {@code iptables-save} and {@code ip6tables-save} in the pod that mention MIRRORD. */
  List<String> mirrordRules() {
    List<String> found = new ArrayList<>();
    for (String tool : List.of("iptables-save", "ip6tables-save")) {
      ExecResult r = lab.run(Node.POD, Duration.ofSeconds(15), tool);
      r.stdout().lines().filter(l -> l.toUpperCase(Locale.ROOT).contains("MIRRORD")).map(l -> tool + ": " + l)
          .forEach(found::add);
    }
    return found;
  }

  /** Processes in the namespace {@code ns} (by {@code ip netns pids}): "pid cmdline". */
  static List<String> processesIn(String ns) {
    List<String> found = new ArrayList<>();
    for (String pid : host("ip", "netns", "pids", ns).lines().map(String::strip).filter(s -> !s.isEmpty()).toList()) {
      String cmd = cmdline(Long.parseLong(pid));
      if (!cmd.isEmpty()) {
        found.add(pid + " " + cmd);
      }
    }
    return found;
  }

  /**
   * Processes of mirrord in the pod's namespace: agents ({@code mirrord-pod-agent.jar}), iptables watchdogs and the
   * iptables runs of their clean-up (their command lines name our {@code MIRRORD_} chains).
   */
  List<String> mirrordProcessesInPod() {
    return processesIn(lab.namespace(Node.POD)).stream()
        .filter(p -> p.contains("mirrord-pod-agent") || p.contains("MIRRORD_"))
        .toList();
  }

  /** Every live process anywhere whose command line contains {@code needle}. */
  static List<String> processesMentioning(String needle) {
    List<String> found = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      for (Path p : entries.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
          continue;
        }
        String cmd = cmdline(Long.parseLong(name));
        if (cmd.contains(needle)) {
          found.add(name + " " + cmd);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
          .replace('\0', ' ').strip();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  static String host(String... cmd) {
    return HostCommand.run(cmd);
  }


  /** {@code kill -SIGNAL pid} (negative pid: a process group); errors ignored (the process may be gone). */
  static void kill(String signal, long pid) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal, "--", Long.toString(pid))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      // nothing to signal
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
