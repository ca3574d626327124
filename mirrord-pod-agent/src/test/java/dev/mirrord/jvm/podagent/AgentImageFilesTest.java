package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.iptables.WatchdogCgroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Keeps the image's two build paths in step: {@code scripts/image.sh} (podman, no network) builds
 * {@code mirrord-pod-agent/Dockerfile} itself, and the Dockerfile takes its packages, files, JDK
 * modules from {@code mirrord-pod-agent/image/} only, and its JVM options from the agent jar (the one
 * options file every start of the agent uses).
 */
class AgentImageFilesTest {
  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static final Path IMAGE = MODULE.resolve("image");

  static List<String> entries(String file) throws IOException {
    return Files.readAllLines(IMAGE.resolve(file)).stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }

  @Test
  void imageShBuildsThisDockerfileWithALocalBaseAndJdkAndNoNetwork() throws IOException {
    String script = Files.readString(MODULE.resolveSibling("scripts/image.sh"));

    assertThat(script)
        .contains("-f mirrord-pod-agent/Dockerfile")
        .contains("--network=none")
        .contains("--pull=never")
        .contains("--build-arg BUILD_BASE=")
        .contains("--build-arg JDK_IMAGE=")
        .contains("--include=\"$packages\"") // debootstrap installs packages.txt into the base
        .contains("mirrord-pod-agent/image/packages.txt");
  }

  @Test
  void dockerfileAssemblesTheImageFromTheSharedListsOnly() throws IOException {
    String dockerfile = Files.readString(MODULE.resolve("Dockerfile"));

    assertThat(dockerfile)
        .contains("ARG BUILD_BASE=debian:bookworm-slim")
        .contains("COPY mirrord-pod-agent/image/ /image/")
        .contains("RUN /image/install-packages.sh")
        .contains("RUN /image/assemble-rootfs.sh /opt/jdk /image/mirrord-pod-agent.jar /rootfs")
        .contains("FROM scratch")
        .contains("COPY --from=build /rootfs/ /")
        .contains(WatchdogCgroup.IN_CONTAINER_ENV + "=1");
    String env = dockerfile.lines().filter(l -> l.startsWith("ENV ")).findFirst().orElseThrow();
    dev.mirrord.jvm.protocol.jvm.AgentJvmOptions.ENVIRONMENT.forEach(
        (name, value) -> assertThat(env).as("the agent's environment in the image").contains(" " + name + "=" + value));
    assertThat(dockerfile.lines().filter(l -> l.startsWith("RUN ")))
        .as("every build step is a script of image/, which the image.sh build runs too")
        .allMatch(l -> l.startsWith("RUN /image/"));
    String assemble = Files.readString(IMAGE.resolve("assemble-rootfs.sh"));
    assertThat(assemble).contains("files.txt").contains("jdk-modules.txt").contains("META-INF/mirrord/agent.jvm.options");
    assertThat(Files.readString(IMAGE.resolve("install-packages.sh"))).contains("packages.txt");
  }

  @Test
  void entrypointRunsTheJarWithTheSharedJvmOptions() throws IOException {
    String dockerfile = Files.readString(MODULE.resolve("Dockerfile"));
    Matcher m = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$").matcher(dockerfile);
    assertThat(m.find()).isTrue();

    assertThat(m.group(1))
        .isEqualTo(
            "[\"/opt/java/bin/java\", \"@/opt/mirrord/jvm.options\", \"-cp\", \"/opt/mirrord/mirrord-pod-agent.jar\", \""
                + PodAgentMain.class.getName()
                + "\"]");
    assertThat(
            Files.readAllLines(MODULE.resolve("src/main/resources/META-INF/mirrord/agent.jvm.options")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")))
        .as("the one options file, in the jar; the image gets it from there")
        .isNotEmpty().allMatch(o -> o.startsWith("-"));
  }

  @Test
  void listsNameWhatTheAgentRunsAndTheirPackages() throws IOException {
    assertThat(entries("packages.txt")).contains("iptables", "conntrack", "util-linux", "mount", "dash");
    assertThat(entries("files.txt"))
        .contains("/bin/sh", "/usr/bin/nsenter", "/usr/bin/setsid", "/usr/bin/mount", "/usr/sbin/conntrack")
        .contains("/usr/sbin/iptables-nft", "/usr/sbin/iptables-legacy", "/usr/sbin/ip6tables-nft-restore")
        .contains("/usr/sbin/iptables-legacy-save", "/usr/lib/*-linux-gnu/xtables/*.so");
    assertThat(entries("jdk-modules.txt")).contains("java.base", "jdk.unsupported").doesNotHaveDuplicates();
  }
}
