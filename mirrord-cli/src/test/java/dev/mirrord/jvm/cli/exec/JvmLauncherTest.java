package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.PortMapping;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JvmLauncherTest {

  private static final Path JAR = Path.of("/opt/mirrord/mirrord-layer-agent.jar");
  private static final Path SESSION = Path.of("/tmp/mirrord-ab12/session.properties");

  @Test
  void javaToolOptionsAppendsTheLayerToTheUsersValue() {
    assertThat(JvmLauncher.javaToolOptions("-Xmx1g -Dfoo=bar", JAR, SESSION))
        .isEqualTo("-Xmx1g -Dfoo=bar -javaagent:/opt/mirrord/mirrord-layer-agent.jar=/tmp/mirrord-ab12/session.properties");
  }

  @Test
  void javaToolOptionsWithoutUserValueIsOnlyTheLayer() {
    assertThat(JvmLauncher.javaToolOptions(null, JAR, SESSION))
        .isEqualTo("-javaagent:/opt/mirrord/mirrord-layer-agent.jar=/tmp/mirrord-ab12/session.properties");
    assertThat(JvmLauncher.javaToolOptions("  ", JAR, SESSION)).startsWith("-javaagent:");
  }

  @Test
  void javaToolOptionsQuotesAJarPathWithSpaces() {
    assertThat(JvmLauncher.javaToolOptions("-Xss2m", Path.of("/opt/my tools/layer.jar"), SESSION))
        .isEqualTo("-Xss2m \"-javaagent:/opt/my tools/layer.jar=/tmp/mirrord-ab12/session.properties\"");
  }

  @Test
  void planKeepsLocalEnvOverlaysImportedAndSetsJavaToolOptions() {
    Map<String, String> local = Map.of("PATH", "/usr/bin", "LANG", "en", "JAVA_TOOL_OPTIONS", "-Xmx1g");
    Map<String, String> imported = Map.of("LANG", "C.UTF-8", "DB_URL", "postgres://db");

    JvmLauncher.LaunchPlan plan = JvmLauncher.plan(List.of("java", "-jar", "app.jar"), local, imported, JAR, SESSION);

    assertThat(plan.command()).containsExactly("java", "-jar", "app.jar");
    assertThat(plan.environment())
        .containsEntry("PATH", "/usr/bin")
        .containsEntry("LANG", "C.UTF-8")
        .containsEntry("DB_URL", "postgres://db")
        .containsEntry("JAVA_TOOL_OPTIONS", "-Xmx1g " + "-javaagent:" + JAR + "=" + SESSION);
    assertThat(plan.processBuilder().environment()).isEqualTo(plan.environment());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "java -jar app.jar",
        "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java -cp x Main",
        "mvn spring-boot:run",
        "./mvnw quarkus:dev",
        "gradle bootRun",
        "./gradlew run",
        "sbt run",
        "jshell",
        "bash -c java_-jar_app.jar",
        "sh -c exec_./mvnw_test",
        "bash -c cd_x_&&_gradle_run",
        "env JAVA_OPTS=-Xmx1g java -jar app.jar",
        "nohup java Main",
        "./run.sh app.jar",
      })
  void recognisesJvmLaunches(String command) {
    assertThat(JvmLauncher.looksLikeJvm(words(command))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "python3 app.py",
        "node server.js",
        "bash -c echo_hi",
        "bash script.sh",
        "curl http://localhost",
        "javac Main.java",
        "env FOO=1 python3 x.py",
      })
  void flagsNonJvmCommands(String command) {
    assertThat(JvmLauncher.looksLikeJvm(words(command))).isFalse();
  }

  @Test
  void sessionPropertiesCarryEveryContractKey() {
    MirrordConfig cfg =
        MirrordConfig.DEFAULTS.overlay(
            new MirrordConfig(
                "pid/1",
                null,
                null,
                new MirrordConfig.Incoming(
                    MirrordConfig.IncomingMode.STEAL,
                    List.of(new PortMapping(8080, 80), new PortMapping(9090, 9091)),
                    List.of(9999, 8081)),
                new MirrordConfig.Outgoing(true, false),
                new MirrordConfig.Dns(false),
                null,
                null,
                true, null));

    Properties p = JvmLauncher.sessionProperties("ab12", 40000, "tok", Path.of("/tmp/l.log"), cfg);

    assertThat(p)
        .containsEntry("session.id", "ab12")
        .containsEntry("proxy.host", "127.0.0.1")
        .containsEntry("proxy.port", "40000")
        .containsEntry("token", "tok")
        .containsEntry("log.file", "/tmp/l.log")
        .containsEntry("log.level", "debug")
        .containsEntry("incoming.mode", "steal")
        .containsEntry("port.map", "8080:80,9090:9091")
        .containsEntry("ignore.ports", "9999,8081")
        .containsEntry("outgoing.tcp", "true")
        .containsEntry("outgoing.udp", "false")
        .containsEntry("dns.remote", "false")
        .containsEntry("skip.build_tools", "true")
        .containsEntry("skip.jvms", "")
        .containsEntry("on.disconnect", "exit")
        .hasSize(15);
  }

  @Test
  void sessionPropertiesCarryTheJvmSkipSettings() {
    MirrordConfig cfg =
        MirrordConfig.DEFAULTS.overlay(
            new MirrordConfig(
                "pid/1", null, null, null, null, null, null, null, null, null,
                false, List.of("com.example.*", "*-cli.jar"), null, null, null));

    Properties p = JvmLauncher.sessionProperties("ab12", 40000, "tok", Path.of("/tmp/l.log"), cfg);

    assertThat(p)
        .containsEntry("skip.build_tools", "false")
        .containsEntry("skip.jvms", "com.example.*,*-cli.jar");
  }

  @Test
  void aSessionsEnvironmentIsTheLayerFirstThenTheTargetsVariablesByName() {
    Map<String, String> env =
        JvmLauncher.sessionEnvironment(
            Map.of("JAVA_TOOL_OPTIONS", "-Xmx1g", "PATH", "/bin", "HOME", "/home/me"),
            Map.of("ZED", "z", "DB_URL", "postgres://db/app"),
            Path.of("/opt/mirrord/layer.jar"),
            Path.of("/tmp/mirrord-ab12/session.properties"));

    assertThat(env)
        .containsExactly(
            Map.entry(
                "JAVA_TOOL_OPTIONS",
                "-Xmx1g -javaagent:/opt/mirrord/layer.jar=/tmp/mirrord-ab12/session.properties"),
            Map.entry("DB_URL", "postgres://db/app"),
            Map.entry("ZED", "z"));
  }

  @Test
  void onDisconnectContinueReachesTheSessionFile() {
    MirrordConfig cfg =
        MirrordConfig.DEFAULTS.overlay(
            new MirrordConfig(null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, new MirrordConfig.Layer(MirrordConfig.OnDisconnect.CONTINUE)));

    assertThat(JvmLauncher.sessionProperties("ab12", 40000, "tok", Path.of("/tmp/l.log"), cfg))
        .containsEntry("on.disconnect", "continue");
  }

  @Test
  void everyFeatureOfTheDefaultsIsBuilt() {
    assertThat(FeatureSupport.warnings(MirrordConfig.DEFAULTS)).isEmpty();
    MirrordConfig quiet =
        MirrordConfig.DEFAULTS.overlay(
            new MirrordConfig(
                null,
                null,
                null,
                new MirrordConfig.Incoming(MirrordConfig.IncomingMode.OFF, null, null),
                new MirrordConfig.Outgoing(false, false),
                new MirrordConfig.Dns(false),
                null,
                null,
                null, null));
    assertThat(FeatureSupport.warnings(quiet)).isEmpty();
  }

  /** Splits on spaces; '_' stands for a space inside one word. */
  private static List<String> words(String command) {
    return Arrays.stream(command.split(" ")).map(w -> w.replace('_', ' ')).toList();
  }
}
