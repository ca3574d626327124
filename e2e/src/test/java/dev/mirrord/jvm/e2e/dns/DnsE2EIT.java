package dev.mirrord.jvm.e2e.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.DnsLookupApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote DNS end to end: {@code bin/mirrord exec --target pid/<lab pod>} runs {@link DnsLookupApp} in the ROOT network
 * namespace, which has no route into the lab and no cluster DNS; the names resolve through the pod's resolv.conf
 * (search domains, ndots:5) and the lab's dnsmasq, queried by the agent from inside the pod's namespace.
 *
 * <p>Every run here is wrapped in a private mount namespace whose /etc/resolv.conf says {@code nameserver 127.0.0.1}
 * (nothing listens there), so whatever resolves locally — with {@code --no-remote-dns}, or without mirrord — fails
 * at once and no query ever leaves the machine; /etc/hosts stays the machine's (localhost, the host name).
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DnsE2EIT {
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
  private static final String[] NAMES = {"svc", "postgres.default.svc.cluster.local", "nope", "localhost"};

  @TempDir Path tmp;

  @Test
  void namesResolveInThePodsContextFromTheRootNamespace(NetnsLab lab) throws Exception {
    ExecResult r = run(mirrord(lab, List.of(), NAMES));

    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(value(r, "svc")).as("search domains: %s", r).isEqualTo("198.18.0.20");
    assertThat(value(r, "postgres.default.svc.cluster.local")).as("%s", r).isEqualTo("198.18.0.20");
    assertThat(value(r, "nope")).as("%s", r).isEqualTo("UnknownHostException");
    assertThat(value(r, "localhost")).as("%s", r).contains("127.0.0.1");
    assertThat(value(r, "getLocalHost")).as("%s", r).doesNotContain("Exception");
  }

  @Test
  void withNoRemoteDnsAShortClusterNameFailsAsWithoutMirrord(NetnsLab lab) throws Exception {
    ExecResult plain = run(JavaApps.command(DnsLookupApp.class, "svc", "localhost"));
    ExecResult local = run(mirrord(lab, List.of("--no-remote-dns"), "svc", "localhost"));

    assertThat(plain.exitCode()).as("%s", plain).isZero();
    assertThat(value(plain, "svc")).as("without mirrord: %s", plain).isEqualTo("UnknownHostException");
    assertThat(local.exitCode()).as("%s", local).isZero();
    assertThat(value(local, "svc")).as("--no-remote-dns: %s", local).isEqualTo("UnknownHostException");
    assertThat(value(local, "localhost")).as("%s", local).contains("127.0.0.1");
  }

  private static List<String> mirrord(NetnsLab lab, List<String> flags, String... names) {
    List<String> cmd = new ArrayList<>();
    cmd.add(LabPaths.repoRoot().resolve("bin/mirrord").toString());
    cmd.add("exec");
    cmd.add("--target");
    cmd.add("pid/" + lab.podPid());
    cmd.addAll(flags);
    cmd.add("--");
    cmd.addAll(JavaApps.command(DnsLookupApp.class, names));
    return cmd;
  }

  /** Runs {@code command} in the root network namespace, in a private mount namespace with a loopback-only resolver. */
  private ExecResult run(List<String> command) throws IOException, InterruptedException {
    Path resolv = tmp.resolve("resolv.conf");
    Files.writeString(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
    List<String> full = new ArrayList<>(List.of(
        "unshare", "--mount", "--propagation", "private", "sh", "-c",
        "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"", resolv.toString()));
    full.addAll(command);
    Path out = tmp.resolve("out-" + System.nanoTime());
    Path err = tmp.resolve("err-" + System.nanoTime());
    ProcessBuilder pb = new ProcessBuilder(full)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    Process p = pb.start();
    if (!p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError("did not finish in " + RUN_TIMEOUT + ": " + full + "\n" + Files.readString(err));
    }
    return new ExecResult(
        p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  private static String value(ExecResult r, String key) {
    return r.stdout().lines()
        .filter(l -> l.startsWith(key + "="))
        .map(l -> l.substring(key.length() + 1))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + key + " in\n" + r));
  }
}
