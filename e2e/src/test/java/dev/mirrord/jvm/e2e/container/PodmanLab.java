package dev.mirrord.jvm.e2e.container;

import dev.mirrord.jvm.e2e.apps.EchoServersApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A real podman "stack" for the container e2e tests, all named with a random prefix {@code P} = {@code mjc} + 6 hex
 * digits and labelled {@value #OWNER_LABEL}={@code <this JVM's pid>}:
 *
 * <pre>
 *   network P-net    --internal, subnet 198.19.N.0/24 (N random in 16..250; never podman's 10.88/16), DNS by
 *                    aardvark-dns at 198.19.N.1 (container names)
 *   P-web            busybox httpd :8080 ("hello from web" at /), env POD_NAME=web APP_SECRET=s3cr3t
 *                    (--rootfs: a busybox-static directory, no image)
 *   P-svc            the agent image's java running EchoServersApp: TCP echo :9000, UDP echo :9001
 * </pre>
 *
 * Only the agent image (localhost/mirrord-pod-agent:&lt;version&gt;, built by scripts/image.sh and kept: its build is
 * cached by a hash of its inputs) outlives the lab. {@link #close()} removes every container and the network;
 * containers and networks of dead test JVMs are swept at the next start.
 */
final class PodmanLab implements AutoCloseable {
  static final String OWNER_LABEL = "dev.mirrord.jvm.e2e.owner";
  static final String WEB_BODY = "hello from web";

  final String prefix;
  final String network;
  final String web;
  final String svc;
  final String image;
  final Path dir;
  private final Path rootfs;
  private final List<String> ulimits;
  private final String owner = Long.toString(ProcessHandle.current().pid());

  private PodmanLab(String prefix, String image) {
    this.prefix = prefix;
    this.network = prefix + "-net";
    this.web = prefix + "-web";
    this.svc = prefix + "-svc";
    this.image = image;
    this.dir = LabPaths.logDir(prefix);
    this.rootfs = dir.resolve("rootfs");
    this.ulimits = ulimits();
  }

  /** Why podman cannot run the tests here, or null when it can. */
  static String unavailable() {
    if (!"0".equals(run(List.of("id", "-u"), 10).stdout().strip())) {
      return "not root";
    }
    for (String tool : List.of("podman", "debootstrap", "busybox", "nsenter", "socat")) {
      if (run(List.of("sh", "-c", "command -v " + tool), 10).exitCode() != 0) {
        return tool + " is not installed (scripts/install-deps.sh installs it)";
      }
    }
    ExecResult info = run(List.of("podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"), 60);
    if (!info.ok()) {
      return "podman info failed: " + info.stderr().strip();
    }
    return null;
  }

  static PodmanLab create() {
    sweep();
    byte[] random = new byte[3];
    ThreadLocalRandom.current().nextBytes(random);
    String prefix = "mjc" + HexFormat.of().formatHex(random);
    long t0 = System.nanoTime();
    String image = buildImage(LabPaths.logDir(prefix));
    System.out.printf("[container-e2e] agent image %s ready in %.1f s%n", image, (System.nanoTime() - t0) / 1e9);
    PodmanLab lab = new PodmanLab(prefix, image);
    try {
      lab.start();
      return lab;
    } catch (RuntimeException | Error e) {
      lab.close();
      throw e;
    }
  }

  /** scripts/image.sh: builds the agent image, or finds it up to date. */
  private static String buildImage(Path logDir) {
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path script = LabPaths.repoRoot().resolve("scripts/image.sh");
    ExecResult r = run(List.of("bash", script.toString()), 900);
    write(logDir.resolve("image.sh.log"), r.stdout() + r.stderr());
    if (!r.ok()) {
      throw new AssertionError("scripts/image.sh failed:\n" + r.stderr());
    }
    System.out.println("[container-e2e] " + r.stderr().strip().replace("\n", "\n[container-e2e] "));
    return run(List.of("bash", script.toString(), "--print-tag"), 60).stdout().strip();
  }

  private void start() {
    try {
      Files.createDirectories(rootfs.resolve("bin"));
      Files.createDirectories(rootfs.resolve("www"));
      Files.copy(Path.of(run(List.of("sh", "-c", "command -v busybox"), 10).stdout().strip()), rootfs.resolve("bin/busybox"));
      rootfs.resolve("bin/busybox").toFile().setExecutable(true);
      Files.writeString(rootfs.resolve("www/index.html"), WEB_BODY + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int attempt = 0; ; attempt++) {
      int n = ThreadLocalRandom.current().nextInt(16, 251);
      ExecResult r = podman(List.of("network", "create", "--internal", "--label", OWNER_LABEL + "=" + owner,
          "--subnet", "198.19." + n + ".0/24", network), 60);
      if (r.ok()) {
        break;
      }
      if (attempt == 5) {
        throw new AssertionError("podman network create failed: " + r.stderr());
      }
    }
    List<String> common = new ArrayList<>(List.of("run", "-d", "--network", network, "--label", OWNER_LABEL + "=" + owner));
    common.addAll(ulimits);
    List<String> webCmd = new ArrayList<>(common);
    webCmd.addAll(List.of("--name", web, "-e", "POD_NAME=web", "-e", "APP_SECRET=s3cr3t",
        "--rootfs", rootfs.toString(), "/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"));
    check(podman(webCmd, 60), "start " + web);
    List<String> svcCmd = new ArrayList<>(common);
    svcCmd.addAll(List.of("--name", svc, "--pull=never", "-v", JavaApps.testClasses() + ":/apps:ro",
        "--entrypoint", "/opt/java/bin/java", image, "-cp", "/apps", EchoServersApp.class.getName(), "9000", "9001"));
    check(podman(svcCmd, 60), "start " + svc);
    awaitLog(svc, "echo.listening", Duration.ofSeconds(60));
    await(() -> get(web, "/").contains(WEB_BODY), Duration.ofSeconds(30), web + " serving");
  }

  /** The container's first process on this host. */
  int pid(String container) {
    return Integer.parseInt(inspect(container, "{{.State.Pid}}"));
  }

  String id(String container) {
    return inspect(container, "{{.Id}}");
  }

  String ip(String container) {
    return inspect(container, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
  }

  String inspect(String container, String format) {
    ExecResult r = podman(List.of("inspect", "-f", format, container), 30);
    check(r, "inspect " + container);
    return r.stdout().strip();
  }

  /** GET http://&lt;container's address&gt;:8080&lt;path&gt; from this host (over podman's bridge); the body, or the error. */
  String get(String container, String path) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).proxy(HttpClient.Builder.NO_PROXY).build();
    try {
      HttpResponse<String> r = http.send(
          HttpRequest.newBuilder(URI.create("http://" + ip(container) + ":8080" + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.body();
    } catch (IOException e) {
      return "error: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } finally {
      http.close();
    }
  }

  /** {@code <backend>-save} in the container's network namespace (both back ends, so no rule can hide). */
  String rules(String container) {
    StringBuilder s = new StringBuilder();
    for (String save : List.of("iptables-nft-save", "iptables-legacy-save")) {
      ExecResult r = run(List.of("nsenter", "--net=/proc/" + pid(container) + "/ns/net", save), 30);
      s.append("# ").append(save).append("\n").append(r.stdout());
    }
    return s.toString();
  }

  /** Names of this lab's containers and networks, and of agent containers of the given sessions, still there. */
  List<String> leftovers(List<String> sessions) {
    List<String> left = new ArrayList<>();
    for (String n : podman(List.of("ps", "-a", "--format", "{{.Names}}"), 30).stdout().lines().toList()) {
      if ((n.startsWith(prefix) && !n.equals(web) && !n.equals(svc))
          || sessions.stream().anyMatch(s -> n.equals("mirrord-agent-" + s))) {
        left.add("container " + n);
      }
    }
    return left;
  }

  /** Every container and network of this lab, still there. */
  List<String> everything() {
    List<String> left = new ArrayList<>();
    podman(List.of("ps", "-a", "--filter", "label=" + OWNER_LABEL + "=" + owner, "--format", "{{.Names}}"), 30)
        .stdout().lines().filter(n -> n.startsWith(prefix)).forEach(n -> left.add("container " + n));
    podman(List.of("network", "ls", "--format", "{{.Name}}"), 30)
        .stdout().lines().filter(n -> n.startsWith(prefix)).forEach(n -> left.add("network " + n));
    return left;
  }

  /**
   * Images of the agent's build other than the one tagged {@link #image}: an older build left dangling, or the
   * temporary base and JDK images of scripts/image.sh.
   */
  List<String> strayImages() {
    List<String> stray = new ArrayList<>();
    String current = inspectImage(image);
    for (String line : podman(List.of("images", "-a", "--format", "{{.ID}} {{.Repository}}:{{.Tag}} {{.Labels}}"), 30)
        .stdout().lines().toList()) {
      if (line.contains("mirrord-image-base-") || line.contains("mirrord-image-jdk-")
          || (line.contains("dev.mirrord.jvm.image.inputs") && !current.startsWith(line.split(" ")[0]))) {
        stray.add(line);
      }
    }
    return stray;
  }

  private static String inspectImage(String image) {
    return podman(List.of("image", "inspect", "-f", "{{.Id}}", image), 30).stdout().strip();
  }

  void awaitLog(String container, String text, Duration timeout) {
    await(() -> podman(List.of("logs", container), 30).stdout().contains(text), timeout, container + " logs '" + text + "'");
  }

  static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  List<String> ulimitFlags() {
    return ulimits;
  }

  @Override
  public void close() {
    podman(List.of("rm", "-f", "-t", "0", "--ignore", web, svc), 60);
    for (String n : podman(List.of("ps", "-a", "--format", "{{.Names}}"), 30).stdout().lines().toList()) {
      if (n.startsWith(prefix)) {
        podman(List.of("rm", "-f", "-t", "0", "--ignore", n), 60);
      }
    }
    podman(List.of("network", "rm", "-f", network), 60);
    deleteTree(rootfs);
  }

  /** Containers and networks of test JVMs that are gone (kill -9 of a test run). */
  private static void sweep() {
    ExecResult ps = podman(List.of("ps", "-a", "--filter", "label=" + OWNER_LABEL,
        "--format", "{{.Names}} {{index .Labels \"" + OWNER_LABEL + "\"}}"), 30);
    for (String line : ps.stdout().lines().toList()) {
      String[] f = line.split(" ");
      if (f.length == 2 && ProcessHandle.of(Long.parseLong(f[1])).isEmpty()) {
        podman(List.of("rm", "-f", "-t", "0", "--ignore", f[0]), 60);
      }
    }
    ExecResult nets = podman(List.of("network", "ls", "--filter", "label=" + OWNER_LABEL,
        "--format", "{{.Name}} {{index .Labels \"" + OWNER_LABEL + "\"}}"), 30);
    for (String line : nets.stdout().lines().toList()) {
      String[] f = line.split(" ");
      if (f.length == 2 && f[1].matches("\\d+") && ProcessHandle.of(Long.parseLong(f[1])).isEmpty()) {
        podman(List.of("network", "rm", "-f", f[0]), 60);
      }
    }
  }

  /** {@code --ulimit} flags runc accepts here: this JVM's hard limit of open files (podman's default exceeds it). */
  private static List<String> ulimits() {
    String hard = run(List.of("sh", "-c", "ulimit -Hn"), 10).stdout().strip();
    return hard.matches("\\d+")
        ? List.of("--ulimit", "nofile=" + hard + ":" + hard, "--ulimit", "nproc=4096:4096")
        : List.of("--ulimit", "nproc=4096:4096");
  }

  static ExecResult podman(List<String> args, int timeoutSeconds) {
    List<String> cmd = new ArrayList<>(List.of("podman"));
    cmd.addAll(args);
    return run(cmd, timeoutSeconds);
  }

  static ExecResult run(List<String> cmd, int timeoutSeconds) {
    try {
      Path out = Files.createTempFile("mjc-out", ".txt");
      Path err = Files.createTempFile("mjc-err", ".txt");
      try {
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", cmd) + " did not finish within " + timeoutSeconds + " s");
        }
        return new ExecResult(p.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static void check(ExecResult r, String what) {
    if (!r.ok()) {
      throw new AssertionError(what + " failed (exit " + r.exitCode() + "): " + r.stderr().strip());
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // logs stay; the rootfs is a copy of busybox
    }
  }
}
