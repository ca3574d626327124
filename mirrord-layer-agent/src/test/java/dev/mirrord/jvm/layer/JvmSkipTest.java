package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The skip decision on {@code sun.java.command} values as the JDK's launcher writes them. */
class JvmSkipTest {

  private static String skip(String command) {
    return JvmSkip.skipReason(command, "", true, List.of());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "org.codehaus.plexus.classworlds.launcher.Launcher -B verify | Maven's own JVM",
        "org.apache.maven.wrapper.MavenWrapperMain spring-boot:run | the Maven wrapper's own JVM",
        "org.mvndaemon.mvnd.common.MavenDaemon | the mvnd daemon's own JVM",
        "org.gradle.launcher.GradleMain run | Gradle's own JVM",
        "org.gradle.wrapper.GradleWrapperMain bootRun | the Gradle wrapper's own JVM",
        "org.gradle.launcher.daemon.bootstrap.GradleDaemon 8.10 | the Gradle daemon's own JVM",
        "org.jetbrains.kotlin.daemon.KotlinCompileDaemon --daemon-runFilesPath x | the Kotlin compile daemon's own JVM",
        "jdk.compiler/com.sun.tools.javac.Main -version | javac's own JVM",
        "jdk.jartool/sun.tools.jar.Main --version | jar's own JVM",
        "jdk.jcmd/sun.tools.jps.Jps | jps's own JVM",
      })
  void buildToolsAreSkippedByDefault(String command, String tool) {
    assertThat(skip(command)).isNotNull().contains(tool).endsWith("(skip_build_tools)");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "com.example.App --port 8080",
        "org.apache.maven.surefire.booter.ForkedBooter /tmp/surefire 2024 surefire.tmp",
        "/tmp/surefire123/surefirebooter-20240101.jar /tmp/surefire123 2024",
        "worker.org.gradle.process.internal.worker.GradleWorkerMain 'Gradle Test Executor 1'",
        "jdk.compiler/com.sun.tools.javac.launcher.Main Hello.java",
        "org.springframework.boot.loader.launch.JarLauncher",
        "target/demo-0.0.1-SNAPSHOT.jar",
        "io.quarkus.deployment.dev.DevModeMain",
        "com.intellij.rt.junit.JUnitStarter -ideVersion5 -junit5 MyIT",
        "org.gradle.launcherx.GradleMain",
      })
  void appsTestForksAndLookAlikesAreNotSkipped(String command) {
    assertThat(skip(command)).isNull();
  }

  @Test
  void aLauncherRunWithoutMainClassIsAProbe() {
    assertThat(JvmSkip.runsNoMainClass(null, "SUN_STANDARD")).as("java -version").isTrue();
    assertThat(JvmSkip.runsNoMainClass("", "SUN_STANDARD")).isTrue();
    assertThat(JvmSkip.runsNoMainClass(null, null)).as("a JVM embedded through JNI").isFalse();
    assertThat(JvmSkip.runsNoMainClass("com.example.App", "SUN_STANDARD")).isFalse();
  }

  @Test
  void noCommandIsNotSkipped() {
    assertThat(skip(null)).isNull();
    assertThat(skip("  ")).isNull();
  }

  @Test
  void skipBuildToolsFalseKeepsTheLayerInBuildTools() {
    assertThat(
            JvmSkip.skipReason(
                "org.codehaus.plexus.classworlds.launcher.Launcher verify", "", false, List.of()))
        .isNull();
  }

  @Test
  void skipJvmsGlobsMatchTheMainClassTheJarAndItsFileName() {
    List<String> globs = List.of("com.example.tools.*", "*-cli.jar", "sidecar.jar");
    assertThat(JvmSkip.skipReason("com.example.tools.Migrate up", "", false, globs))
        .isEqualTo("com.example.tools.Migrate matches skip_jvms 'com.example.tools.*'");
    assertThat(JvmSkip.skipReason("build/libs/admin-cli.jar --x", "build/libs/admin-cli.jar", false, globs))
        .isEqualTo("build/libs/admin-cli.jar matches skip_jvms '*-cli.jar'");
    assertThat(JvmSkip.skipReason("/opt/x/sidecar.jar", "/opt/x/sidecar.jar", false, globs))
        .isEqualTo("/opt/x/sidecar.jar matches skip_jvms 'sidecar.jar'");
    assertThat(JvmSkip.skipReason("com.example.App", "", false, globs)).isNull();
    assertThat(JvmSkip.skipReason("app.jar", "app.jar", false, globs)).isNull();
  }

  @Test
  void aJarPathWithSpacesIsReadWholeFromTheClassPath() {
    String jar = "/home/me/My Projects/tool-cli.jar";
    assertThat(JvmSkip.programNames(jar + " --help", jar)).containsExactly(jar, "tool-cli.jar");
    assertThat(JvmSkip.skipReason(jar + " --help", jar, false, List.of("tool-cli.jar"))).isNotNull();
    // without the class path the first word is all there is
    assertThat(JvmSkip.programNames(jar + " --help", "")).containsExactly("/home/me/My", "My");
  }

  @Test
  void skipJvmsIsCheckedBeforeTheBuildToolTable() {
    assertThat(
            JvmSkip.skipReason(
                "org.gradle.launcher.GradleMain", "", true, List.of("org.gradle.*")))
        .contains("skip_jvms 'org.gradle.*'");
  }

  @ParameterizedTest(name = "''{0}'' ~ ''{1}'' = {2}")
  @CsvSource({
    "*, '', true",
    "*, anything.at.all, true",
    "a*c, abc, true",
    "a*c, ac, true",
    "a*c, abcd, false",
    "a?c, abc, true",
    "a?c, ac, false",
    "*.jar, x.jar, true",
    "*.jar, x.jarx, false",
    "org.*.Main, org.gradle.launcher.GradleMain, false",
    "org.*Main, org.gradle.launcher.GradleMain, true",
    "**a, bba, true",
    "a*b*c, aXbYbZc, true",
    "abc, abc, true",
    "abc, abd, false",
    "'', '', true",
    "'', a, false",
  })
  void globs(String glob, String text, boolean matches) {
    assertThat(JvmSkip.globMatches(glob, text)).isEqualTo(matches);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "org.codehaus.plexus.classworlds.launcher.Launcher exec:java -Dexec.mainClass=a.B | exec:java",
        "org.codehaus.plexus.classworlds.launcher.Launcher -q compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java | org.codehaus.mojo:exec-maven-plugin:3.5.0:java",
        "org.apache.maven.wrapper.MavenWrapperMain org.codehaus.mojo:exec-maven-plugin:java | org.codehaus.mojo:exec-maven-plugin:java",
      })
  void execJavaIsNamedWithTheWayOut(String command, String goal) {
    assertThat(JvmSkip.inProcessRunHint(command))
        .startsWith(goal + " runs the app inside Maven's own JVM")
        .contains("exec:exec or spring-boot:run");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "org.codehaus.plexus.classworlds.launcher.Launcher exec:exec",
        "org.codehaus.plexus.classworlds.launcher.Launcher spring-boot:run",
        "org.codehaus.plexus.classworlds.launcher.Launcher -Dexec.args=exec:java verify",
        "org.codehaus.plexus.classworlds.launcher.Launcher org.codehaus.mojo:exec-maven-plugin:1:2:java",
        "com.example.App exec:java",
        "org.codehaus.plexus.classworlds.launcher.Launcher",
      })
  void otherGoalsAndOtherProgramsGetNoHint(String command) {
    assertThat(JvmSkip.inProcessRunHint(command)).isNull();
  }
}
