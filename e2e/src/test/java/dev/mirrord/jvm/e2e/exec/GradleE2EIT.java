package dev.mirrord.jvm.e2e.exec;

import static dev.mirrord.jvm.e2e.exec.SessionChecks.assertNothingLeft;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code gradle run} ({@code e2e/src/test/resources/buildtools/gradle-sample}, the application plugin's JavaExec) under
 * {@code mirrord exec --target pid/<lab pod>}, with the machine's Gradle: Debian 12's 4.4.1, on JDK 17 (the newest
 * Gradle this machine can get: no distribution is served by Maven Central or Debian; scripts/install-deps.sh installs
 * it). Gradle's own JVMs (client, daemon) stay local, the app it forks reaches {@code svc} through the target. Skipped
 * with the reason where {@code gradle} is not installed.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class GradleE2EIT {
  static final Duration BUILD = Duration.ofMinutes(3);
  static final Path GRADLE = Path.of("/usr/bin/gradle");

  @BeforeAll
  static void gradleAndJars() {
    assumeTrue(Files.isExecutable(GRADLE), "[e2e] no gradle at " + GRADLE + " (apt-get install gradle): GradleE2EIT is SKIPPED");
    MirrordRun.buildJarsOnce();
  }

  @Test
  void withoutDaemonTheClientStaysLocalAndTheAppOfRunReachesTheClusterThroughTheTarget(NetnsLab lab) {
    Path project = sampleBuild(lab, "gradle-no-daemon");

    try (MirrordRun run = gradle(lab, "gradle", project, "--no-daemon")) {
      assertThat(run.waitFor(BUILD)).as("gradle exit code\n%s", run.outputForHumans()).isZero();

      assertThat(run.stdout())
          .as("what the app printed\n%s", run.outputForHumans())
          .contains("sample.layer=true\nsample.java.command=sample.SvcClient\nsample.http=hello from svc: GET /gradle\n");
      assertThat(skipped(run))
          .as("Gradle's own JVMs (and its `java -version` probe of the JDK), skipped")
          .anySatisfy(l -> assertThat(l).contains("skipped: org.gradle.launcher.GradleMain is Gradle's own JVM"))
          .allSatisfy(l -> assertThat(l).containsPattern(
              "skipped: (org\\.gradle\\.launcher\\.(GradleMain|daemon\\.bootstrap\\.GradleDaemon) is |this JVM runs no main class)"));
      assertThat(MavenE2EIT.layerConnections(run))
          .as("only the app joined the session")
          .singleElement()
          .satisfies(l -> assertThat(l).contains(" sample.SvcClient'"));
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void aDaemonStartedUnderMirrordStaysLocalAndTheAppItForksGetsTheLayer(NetnsLab lab) {
    Path project = sampleBuild(lab, "gradle-daemon");

    try (MirrordRun run = gradle(lab, "gradle-daemon", project, "--daemon")) {
      int exit = run.waitFor(BUILD);
      stopDaemons(lab, project);

      assertThat(exit).as("gradle exit code\n%s", run.outputForHumans()).isZero();
      assertThat(run.stdout()).contains("sample.layer=true").contains("sample.http=hello from svc: GET /gradle\n");
      assertThat(skipped(run))
          .anySatisfy(l -> assertThat(l).contains("skipped: org.gradle.launcher.daemon.bootstrap.GradleDaemon is the Gradle daemon's own JVM"));
      assertThat(MavenE2EIT.layerConnections(run)).singleElement().satisfies(l -> assertThat(l).contains(" sample.SvcClient'"));
      assertNothingLeft(lab, run);
    }
  }

  /** {@code mirrord exec --target pid/<pod> -- gradle <mode> -q -p <project> run} with Gradle's home in the project. */
  private static MirrordRun gradle(NetnsLab lab, String name, Path project, String mode) {
    return MirrordRun.start(lab, name, gradleEnv(project), List.of(),
        List.of("exec", "--target", "pid/" + lab.podPid(), "--",
            GRADLE.toString(), mode, "-q", "-p", project.toString(), "run"));
  }

  /** Gradle 4.4 runs on JDK 17 at most; its user home (daemons, caches) is the test's own. */
  private static Map<String, String> gradleEnv(Path project) {
    return Map.of(
        "JAVA_HOME", JavaApps.java17().getParent().getParent().toString(),
        "GRADLE_USER_HOME", project.resolve("gradle-user-home").toString(),
        "GRADLE_OPTS", "-Xmx256m");
  }

  /** {@code gradle --stop} for the test's Gradle user home: the daemon outlives the build, as Gradle means it to. */
  private static void stopDaemons(NetnsLab lab, Path project) {
    try {
      ProcessBuilder pb = new ProcessBuilder(GRADLE.toString(), "--stop", "-q").redirectErrorStream(true)
          .redirectOutput(lab.logDir().resolve("gradle-stop.out").toFile());
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().putAll(gradleEnv(project));
      Process p = pb.start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<String> skipped(MirrordRun run) {
    return MavenE2EIT.layerLog(run).stream().filter(l -> l.contains("skipped: ")).toList();
  }

  /** The Gradle sample and the Maven sample's sources it builds, copied under the lab's log directory. */
  private static Path sampleBuild(NetnsLab lab, String name) {
    Path root = lab.logDir().resolve(name);
    MavenE2EIT.copyTestResource("buildtools/maven-sample", root.resolve("maven-sample"));
    return MavenE2EIT.copyTestResource("buildtools/gradle-sample", root.resolve("gradle-sample"));
  }
}
