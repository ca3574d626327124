package dev.mirrord.jvm.e2e.exec;

import static dev.mirrord.jvm.e2e.exec.SessionChecks.assertNothingLeft;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real Maven build ({@code e2e/src/test/resources/buildtools/maven-sample}, the machine's {@code mvn}) under {@code
 * mirrord exec --target pid/<lab pod>}: Maven's own JVM stays local (it reaches the local repository, or Maven Central,
 * as it does without mirrord), the JVMs it forks get the layer and reach the lab's {@code svc} by its cluster name
 * through the target ({@code exec:exec} of a JVM, and a Failsafe integration test in its fork). With {@code
 * --no-skip-build-tools}, Maven's own downloads go through the target and fail in the lab (whose DNS knows no Maven
 * Central); that run is made from a loopback-only namespace, so nothing of it can leave the machine.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MavenE2EIT {
  static final Duration BUILD = Duration.ofMinutes(4);
  static final String MAVEN_MAIN = "org.codehaus.plexus.classworlds.launcher.Launcher";

  @BeforeAll
  static void jarsAreBuilt() {
    MirrordRun.buildJarsOnce();
  }

  @Test
  void mavenStaysLocalWhileTheJvmsItForksReachTheClusterThroughTheTarget(NetnsLab lab) {
    Path pom = sampleProject(lab, "maven-local").resolve("pom.xml");
    int queriesBefore = dnsQueries(lab).size();

    try (MirrordRun run =
        MirrordRun.start(lab, "maven", List.of("exec", "--target", "pid/" + lab.podPid(), "--",
            "mvn", "-B", "-ntp", "-f", pom.toString(), "verify", "exec:exec"))) {
      assertThat(run.waitFor(BUILD)).as("mvn exit code\n%s", run.outputForHumans()).isZero();

      assertThat(run.stdout())
          .as("what the forked JVMs printed\n%s", run.outputForHumans())
          .contains("sample.layer=true\nsample.java.command=sample.SvcClient\nsample.http=hello from svc: GET /exec\n")
          .contains("sample.it.http=hello from svc: GET /failsafe layer=true")
          .contains("Tests run: 1, Failures: 0, Errors: 0, Skipped: 0");
      List<String> layerLog = layerLog(run);
      assertThat(layerLog.stream().filter(l -> l.contains("skipped: ")))
          .as("Maven's own JVM, skipped once\n%s", String.join("\n", layerLog))
          .singleElement()
          .satisfies(l -> assertThat(l).endsWith("skipped: " + MAVEN_MAIN + " is Maven's own JVM (skip_build_tools);"
              + " no hooks, no connection; the JVMs it starts get the layer"));
      assertThat(layerConnections(run))
          .as("JVMs that joined the session: the exec:exec JVM and the Failsafe fork, never Maven")
          .hasSize(2)
          .anySatisfy(l -> assertThat(l).contains(" sample.SvcClient'"))
          .anySatisfy(l -> assertThat(l).contains("surefirebooter"))
          .noneSatisfy(l -> assertThat(l).contains(MAVEN_MAIN));
      assertThat(dnsQueries(lab).subList(queriesBefore, dnsQueries(lab).size()))
          .as("names the lab's DNS was asked during this build")
          .anySatisfy(q -> assertThat(q).contains("svc.default.svc.cluster.local"))
          .noneSatisfy(q -> assertThat(q).containsIgnoringCase("maven"));
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void withSkipBuildToolsFalseMavensOwnDownloadsGoThroughTheTargetAndFailInTheLab(NetnsLab lab) throws IOException {
    String ns = lab.devNamespace("maven");
    Path project = sampleProject(lab, "maven-no-skip");
    Path emptyRepo = Files.createDirectories(project.resolve("empty-local-repository"));
    Path settings = Files.writeString(project.resolve("settings.xml"), "<settings/>\n");
    int queriesBefore = dnsQueries(lab).size();

    try (MirrordRun run =
        MirrordRun.start(lab, "maven-no-skip", Map.of(), List.of("ip", "netns", "exec", ns),
            List.of("exec", "--target", "pid/" + lab.podPid(), "--no-skip-build-tools", "--",
                "mvn", "-B", "-ntp", "-s", settings.toString(), "-Dmaven.repo.local=" + emptyRepo,
                "-f", project.resolve("pom.xml").toString(), "compile"))) {
      int exit = run.waitFor(BUILD);

      assertThat(exit).as("mvn cannot download its plugins through the lab\n%s", run.outputForHumans()).isNotZero();
      assertThat(run.stdout())
          .as("%s", run.outputForHumans())
          .contains("Unknown host repo.maven.apache.org")
          .contains("(resolved in the mirrord target: not found: repo.maven.apache.org)");
      assertThat(dnsQueries(lab).subList(queriesBefore, dnsQueries(lab).size()))
          .as("Maven's own lookup of Maven Central reached the lab's DNS, through the target")
          .anySatisfy(q -> assertThat(q).contains("repo.maven.apache.org"));
      assertThat(String.join("\n", layerLog(run))).doesNotContain("skipped: ");
      assertThat(layerConnections(run))
          .as("Maven's own JVM connected to the session")
          .anySatisfy(l -> assertThat(l).contains(MAVEN_MAIN));
      assertNothingLeft(lab, run);
    }
  }

  /** A fresh copy of the sample project under the lab's log directory ({@code target/} output stays there). */
  static Path sampleProject(NetnsLab lab, String name) {
    return copyTestResource("buildtools/maven-sample", lab.logDir().resolve(name));
  }

  /** Copies the test resource directory {@code resource} (from the test classes) to {@code to}; returns {@code to}. */
  static Path copyTestResource(String resource, Path to) {
    Path source = JavaApps.testClasses().resolve(resource);
    try (Stream<Path> files = Files.walk(source)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(source.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to;
  }

  /** The session's layer log ({@code mirrord-<session>-layer.log} beside the CLI's), as lines. */
  static List<String> layerLog(MirrordRun run) {
    Path log = run.dir().resolve("mirrord-" + run.sessionId().orElse("?") + "-layer.log");
    return MirrordRun.read(log).lines().toList();
  }

  /**
   * The CLI's {@code layer '<peer>' connected} lines, one per JVM that joined the session (a layer's extra connections
   * for its app's connects, {@code '… (connects)'}, left out).
   */
  static List<String> layerConnections(MirrordRun run) {
    return run.cliLog().lines()
        .filter(l -> l.contains("layer '") && l.contains("' connected") && !l.contains(" (connects)' connected"))
        .toList();
  }

  /** The queries the lab's dnsmasq logged. */
  static List<String> dnsQueries(NetnsLab lab) {
    return new ArrayList<>(
        MirrordRun.read(lab.stateDir().resolve("dnsmasq.log")).lines().filter(l -> l.contains("query[")).toList());
  }
}
