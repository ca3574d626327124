package dev.mirrord.jvm.e2e.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A network-namespace lab: a fake cluster made by {@code scripts/lab.sh up} (the one definition of the topology).
 *
 * <pre>
 *   client 198.18.0.100 ─┐                      ┌─ pod 198.18.0.10   HTTP :8080 "hello from pod: GET /x" (podPid)
 *                        ├── br0 (in P-br) ──────┼─ svc 198.18.0.20   HTTP :8080, TCP echo :9000, UDP echo :9001,
 *   dns  198.18.0.53 ────┘                       │                    TCP sink :9002 (answers the byte count)
 *        dnsmasq: *.cluster.local only,          └─ (with {@link Option#DATABASES}) PostgreSQL :5432 db "app",
 *        NXDOMAIN otherwise, never forwards                           Redis :6379 on svc
 * </pre>
 *
 * Every node also has an IPv6 address, fd00:198:18::{10,20,53,100} ({@link #ip6}), and the servers listen on both
 * families; the IPv6 cluster names are {@code svc-v6}, {@code pod-v6} (AAAA only) and {@code svc-dual} (A and AAAA).
 * Namespaces are named {@code <prefix>-pod} etc., with {@code prefix = mjl<6 hex>}. pod, svc and client see their own
 * {@code /etc/resolv.conf} (nameserver 198.18.0.53, search default.svc.cluster.local svc.cluster.local cluster.local,
 * ndots:5), {@code /etc/hosts} and {@code /etc/hostname} through {@code ip netns exec}.
 *
 * <p>{@link #close()} (and a JVM shutdown hook) kills every process inside the lab and deletes it. A lab whose JVM
 * died without closing it is swept by the next {@link #create()}. With {@code MIRRORD_E2E_PRESERVE_FAILED=1} a lab
 * {@linkplain #markFailed() marked failed} is kept for debugging (see e2e/README.md).
 */
public final class NetnsLab implements AutoCloseable {
  /** The lab's namespaces. */
  public enum Node {
    POD("POD"),
    SVC("SVC"),
    DNS("DNS"),
    CLIENT("CLIENT"),
    /** Holds the bridge only; no address. */
    BRIDGE("BR");

    private final String key;

    Node(String key) {
      this.key = key;
    }
  }

  /** Extras of {@code lab.sh up}; each costs start-up time, so a test class asks for what it needs. */
  public enum Option {
    /**
     * {@code --with-db}: PostgreSQL (database {@code app}, user {@code postgres}, trust auth from the lab's /24) on
     * svc:5432 and Redis on svc:6379, reachable by the cluster names {@code postgres} and {@code redis}. About 1–3 s.
     */
    DATABASES("--with-db");

    private final String flag;

    Option(String flag) {
      this.flag = flag;
    }
  }

  public static final String PRESERVE_ENV = "MIRRORD_E2E_PRESERVE_FAILED";
  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern ENV_LINE = Pattern.compile("^(MIRRORD_LAB_[A-Z0-9_]+)=(.*)$", Pattern.MULTILINE);
  private static final Pattern NET_LINK = Pattern.compile("net:\\[(\\d+)]");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String prefix;
  private final Map<String, String> labEnv;
  private final Map<Node, Long> netnsInodes;
  private final Path logDir;
  private final List<LabProcess> processes = new CopyOnWriteArrayList<>();
  private final AtomicInteger processCounter = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;
  private volatile boolean failed;

  private NetnsLab(String prefix, Map<String, String> labEnv, Map<Node, Long> netnsInodes, Path logDir) {
    this.prefix = prefix;
    this.labEnv = labEnv;
    this.netnsInodes = netnsInodes;
    this.logDir = logDir;
    this.shutdownHook = new Thread(this::closeFromShutdownHook, "netns-lab-" + prefix);
  }

  /**
   * Creates a lab (sweeping labs left by dead JVMs first). Fails with {@link IllegalStateException} when {@link
   * Privileges#canManageNetns()} is false or {@code lab.sh up} fails.
   */
  public static NetnsLab create() {
    return create(Set.of());
  }

  /** Like {@link #create()}, with the extras {@code options} (e.g. {@link Option#DATABASES}). */
  public static NetnsLab create(Option first, Option... more) {
    Set<Option> options = EnumSet.of(first, more);
    return create(options);
  }

  private static NetnsLab create(Set<Option> options) {
    if (!Privileges.canManageNetns()) {
      throw new IllegalStateException("netns lab unavailable: " + Privileges.reason());
    }
    byte[] random = new byte[3];
    RANDOM.nextBytes(random);
    String prefix = "mjl" + HexFormat.of().formatHex(random);
    Path logDir = LabPaths.logDir(prefix);
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long t0 = System.nanoTime();
    List<String> upArgs = new ArrayList<>(
        List.of("up", "--prefix", prefix, "--owner-pid", Long.toString(ProcessHandle.current().pid())));
    options.forEach(o -> upArgs.add(o.flag));
    ScriptRun up = script(logDir, upArgs.toArray(String[]::new));
    if (up.exitCode() != 0) {
      script(logDir, "down", "--prefix", prefix);
      throw new IllegalStateException("scripts/lab.sh up failed (exit " + up.exitCode() + "), log " + logDir.resolve("lab.log")
          + ":\n" + readQuietly(logDir.resolve("lab.log")));
    }
    Map<String, String> env = new LinkedHashMap<>();
    Matcher m = ENV_LINE.matcher(up.stdout());
    while (m.find()) {
      env.put(m.group(1), m.group(2));
    }
    Map<Node, Long> inodes = new EnumMap<>(Node.class);
    for (Node node : Node.values()) {
      String ns = required(env, "MIRRORD_LAB_NS_" + node.key);
      inodes.put(node, namespaceInode(ns));
    }
    NetnsLab lab = new NetnsLab(prefix, env, inodes, logDir);
    Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
    System.out.printf(Locale.ROOT, "[lab] %s up in %d ms (pod pid %d, %s:%d; logs %s)%n", prefix,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), lab.podPid(), lab.ip(Node.POD), lab.podHttpPort(), logDir);
    return lab;
  }

  public String prefix() {
    return prefix;
  }

  /** The namespace name of a node, e.g. {@code mjl1a2b3c-pod}; use with {@code ip netns exec} or {@code -n}. */
  public String namespace(Node node) {
    return required(labEnv, "MIRRORD_LAB_NS_" + node.key);
  }

  /** The node's IPv4 address (198.18.0.x). */
  public String ip(Node node) {
    if (node == Node.BRIDGE) {
      throw new IllegalArgumentException("the bridge namespace has no address");
    }
    return required(labEnv, "MIRRORD_LAB_IP_" + node.key);
  }

  /**
   * The node's IPv6 address (fd00:198:18::x, the lab's ULA; the pod's, svc's and dnsmasq's servers listen on it too).
   */
  public String ip6(Node node) {
    if (node == Node.BRIDGE) {
      throw new IllegalArgumentException("the bridge namespace has no address");
    }
    return required(labEnv, "MIRRORD_LAB_IP6_" + node.key);
  }

  /** Pid of the pod's long-running server (socat on :8080), in the pod netns; the target of {@code --target pid/N}. */
  public long podPid() {
    return Long.parseLong(required(labEnv, "MIRRORD_LAB_POD_PID"));
  }

  public int podHttpPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_POD_HTTP_PORT"));
  }

  public int svcHttpPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_HTTP_PORT"));
  }

  public int svcTcpEchoPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_TCP_ECHO_PORT"));
  }

  public int svcUdpEchoPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_UDP_ECHO_PORT"));
  }

  /** The svc node's bulk sink: reads a connection to EOF, then answers the byte count ({@code "N\n"}) and closes. */
  public int svcSinkPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_SINK_PORT"));
  }

  /** Whether this lab was made with {@link Option#DATABASES}. */
  public boolean hasDatabases() {
    return labEnv.containsKey("MIRRORD_LAB_SVC_POSTGRES_PORT");
  }

  /** PostgreSQL on svc ({@link Option#DATABASES} only): database {@link #svcPostgresDb()}, user {@code postgres}. */
  public int svcPostgresPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_POSTGRES_PORT"));
  }

  public String svcPostgresDb() {
    return required(labEnv, "MIRRORD_LAB_SVC_POSTGRES_DB");
  }

  /** Redis on svc ({@link Option#DATABASES} only). */
  public int svcRedisPort() {
    return Integer.parseInt(required(labEnv, "MIRRORD_LAB_SVC_REDIS_PORT"));
  }

  /** Inode of a node's network namespace ({@code /proc/<pid>/ns/net} of processes inside it shows the same). */
  public long netnsInode(Node node) {
    return netnsInodes.get(node);
  }

  /** Run state of lab.sh ({@code /run/mirrord-lab/<prefix>}): daemon logs and pid files. */
  public Path stateDir() {
    return Path.of(required(labEnv, "MIRRORD_LAB_STATE_DIR"));
  }

  /** Where the output of processes started through this lab goes ({@code e2e/target/lab-logs/<prefix>}). */
  public Path logDir() {
    return logDir;
  }

  /**
   * A "developer machine" namespace {@code <prefix>-<name>}, created on first use: loopback only (nothing in it can
   * reach the lab or leave the machine except through mirrord), {@code /etc/netns/<prefix>-<name>/resolv.conf} naming
   * 127.0.0.1 (a local lookup fails at once). Deleted with the lab ({@code lab.sh} removes every {@code <prefix>-*}).
   */
  public synchronized String devNamespace(String name) {
    String ns = prefix + "-" + name;
    if (!Files.exists(Path.of("/run/netns", ns))) {
      try {
        Path etc = Path.of("/etc/netns", ns);
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      HostCommand.run("ip", "netns", "add", ns);
      HostCommand.run("ip", "-n", ns, "link", "set", "lo", "up");
    }
    return ns;
  }

  /** Every {@code MIRRORD_LAB_*} value printed by {@code lab.sh up}. */
  public Map<String, String> labEnv() {
    return Map.copyOf(labEnv);
  }

  /** Starts {@code command} in the pod namespace (it then sees the pod's /etc/resolv.conf and /etc/hosts). */
  public LabProcess startInPod(String... command) {
    return exec(Node.POD, command);
  }

  public LabProcess exec(Node node, String... command) {
    return exec(namespace(node), Map.of(), List.of(command));
  }

  public LabProcess exec(Node node, Map<String, String> extraEnv, List<String> command) {
    return exec(namespace(node), extraEnv, command);
  }

  /**
   * Starts {@code command} in the namespace {@code ns} as {@code setsid ip netns exec ns command...}: own session and
   * process group, environment of this JVM plus {@code extraEnv}, output to files in {@link #logDir()}. The process is
   * killed at {@link #close()} at the latest.
   */
  public LabProcess exec(String ns, Map<String, String> extraEnv, List<String> command) {
    if (closed.get()) {
      throw new IllegalStateException("lab " + prefix + " is closed");
    }
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command");
    }
    String base = Path.of(command.get(0)).getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    String name = String.format(Locale.ROOT, "%02d-%s-%s", processCounter.incrementAndGet(),
        ns.startsWith(prefix + "-") ? ns.substring(prefix.length() + 1) : ns, base);
    Path out = logDir.resolve(name + ".out");
    Path err = logDir.resolve(name + ".err");
    List<String> full = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", ns));
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    pb.environment().putAll(extraEnv);
    try {
      Files.writeString(logDir.resolve(name + ".cmd"), String.join(" ", full) + "\n");
      LabProcess process = new LabProcess(name + " [" + String.join(" ", command) + "]", pb.start(), out, err);
      processes.add(process);
      return process;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs {@code command} in a node to completion (bounded by {@code timeout}) and returns its exit code and output. */
  public ExecResult run(Node node, Duration timeout, String... command) {
    try (LabProcess p = exec(node, command)) {
      int exit = p.waitFor(timeout);
      return new ExecResult(exit, p.stdout(), p.stderr());
    } finally {
      processes.removeIf(lp -> !lp.isAlive());
    }
  }

  /** Marks the lab as belonging to a failed test: with MIRRORD_E2E_PRESERVE_FAILED=1, close() then keeps it. */
  public void markFailed() {
    failed = true;
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** What is left of this lab on the machine; empty after {@link #close()} (unless preserved). */
  public List<String> leftovers() {
    return leftovers(prefix, netnsInodes.values());
  }

  /**
   * What is left on the machine of the lab {@code prefix} whose namespaces had the inodes {@code netnsInodes}:
   * namespaces, links in the root namespace, /etc/netns and /run/mirrord-lab entries, and processes still inside
   * one of those namespaces. (An inode now used by another live, named namespace is not counted: inodes get reused.)
   */
  public static List<String> leftovers(String prefix, Collection<Long> netnsInodes) {
    List<String> found = new ArrayList<>();
    for (String line : command(Duration.ofSeconds(10), "ip", "netns", "list").lines().toList()) {
      if (line.startsWith(prefix)) {
        found.add("netns " + line.strip());
      }
    }
    for (String line : command(Duration.ofSeconds(10), "ip", "-o", "link").lines().toList()) {
      if (line.contains(prefix)) {
        found.add("root-ns link " + line.strip());
      }
    }
    for (Path dir : List.of(Path.of("/etc/netns"), Path.of("/run/mirrord-lab"))) {
      for (Path entry : list(dir)) {
        if (entry.getFileName().toString().startsWith(prefix)) {
          found.add("file " + entry);
        }
      }
    }
    Set<Long> gone = new HashSet<>(netnsInodes);
    for (Path mounted : list(Path.of("/run/netns"))) {
      try {
        gone.remove(((Number) Files.getAttribute(mounted, "unix:ino")).longValue());
      } catch (IOException | RuntimeException e) {
        // Raced with a deletion: nothing mounted there any more.
      }
    }
    for (Path proc : list(Path.of("/proc"))) {
      String pid = proc.getFileName().toString();
      if (!pid.chars().allMatch(Character::isDigit)) {
        continue;
      }
      try {
        Matcher m = NET_LINK.matcher(Files.readSymbolicLink(proc.resolve("ns/net")).toString());
        if (m.matches() && gone.contains(Long.parseLong(m.group(1)))) {
          String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
          found.add("process " + pid + " " + cmdline.strip());
        }
      } catch (IOException | RuntimeException e) {
        // Exited meanwhile, a zombie (no namespaces), or a kernel thread.
      }
    }
    return found;
  }

  /**
   * Kills the processes started through this lab and deletes the lab (namespaces, everything inside them, /etc/netns
   * entries, run files) — unless it was {@linkplain #markFailed() marked failed} and MIRRORD_E2E_PRESERVE_FAILED=1.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook is running or will find the lab closed.
    }
    teardown();
  }

  private void closeFromShutdownHook() {
    if (closed.compareAndSet(false, true)) {
      System.out.println("[lab] " + prefix + ": JVM exiting, tearing the lab down");
      teardown();
    }
  }

  private void teardown() {
    if (failed && preserveRequested()) {
      ScriptRun keep = script(logDir, "keep", "--prefix", prefix);
      System.out.println("[lab] " + prefix + " PRESERVED for debugging (" + PRESERVE_ENV + "=1)"
          + (keep.exitCode() == 0 ? "" : " — but `lab.sh keep` failed, the next lab will sweep it") + ":\n"
          + "[lab]   scripts/lab.sh status; scripts/lab.sh exec pod --prefix " + prefix + " -- bash\n"
          + "[lab]   state " + stateDir() + ", process logs " + logDir + "\n"
          + "[lab]   delete with: scripts/lab.sh down --prefix " + prefix);
      return;
    }
    long t0 = System.nanoTime();
    for (LabProcess p : processes) {
      p.close();
    }
    processes.clear();
    ScriptRun down = script(logDir, "down", "--prefix", prefix);
    System.out.printf(Locale.ROOT, "[lab] %s down in %d ms%s%n", prefix,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        down.exitCode() == 0 ? "" : " — lab.sh down exited " + down.exitCode() + ", see " + logDir.resolve("lab.log"));
  }

  private static boolean preserveRequested() {
    String v = System.getenv(PRESERVE_ENV);
    if (v == null) {
      v = System.getProperty(PRESERVE_ENV);
    }
    return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
  }

  @Override
  public String toString() {
    return "NetnsLab[" + prefix + ", pod pid " + labEnv.get("MIRRORD_LAB_POD_PID") + "]";
  }

  private record ScriptRun(int exitCode, String stdout) {}

  /** Runs scripts/lab.sh with stdout captured and stderr appended to logDir/lab.log; bounded by SCRIPT_TIMEOUT. */
  private static ScriptRun script(Path logDir, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(LabPaths.labScript().toString());
    cmd.addAll(List.of(args));
    Path out = logDir.resolve("lab-" + args[0] + ".out");
    try {
      Files.createDirectories(logDir);
      Process p = new ProcessBuilder(cmd)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(out.toFile())
          .redirectError(ProcessBuilder.Redirect.appendTo(logDir.resolve("lab.log").toFile()))
          .start();
      if (!p.waitFor(SCRIPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " did not finish within " + SCRIPT_TIMEOUT);
      }
      return new ScriptRun(p.exitValue(), readQuietly(out));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + cmd, e);
    }
  }

  /** Runs a short host command and returns its stdout (empty on failure). */
  private static String command(Duration timeout, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
      return out;
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static long namespaceInode(String ns) {
    try {
      return ((Number) Files.getAttribute(Path.of("/run/netns", ns), "unix:ino")).longValue();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String required(Map<String, String> env, String key) {
    String v = env.get(key);
    if (v == null) {
      throw new IllegalStateException("scripts/lab.sh up did not print " + key + " (got " + env.keySet() + ")");
    }
    return v;
  }

  private static String readQuietly(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }
}
