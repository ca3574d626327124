package dev.mirrord.jvm.e2e.exec;

import static dev.mirrord.jvm.e2e.exec.SessionChecks.assertNothingLeft;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.mirrord.jvm.e2e.apps.ControlledApp;
import dev.mirrord.jvm.e2e.apps.FakeAgentApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.lab.LabPaths;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLab.Node;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the user sees when {@code mirrord exec} cannot do its job: exactly one {@code mirrord: error: <what>; <fix>}
 * line on stderr (usage errors may add picocli's {@code Try 'mirrord exec --help'.}), a non-zero exit code from the
 * documented table, no stack trace — and nothing left running. Also: a stranger writing garbage to the agent's socket
 * does not disturb a running session.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ExecErrorsE2EIT {
  private static final Duration RUN = Duration.ofSeconds(60);
  private static final String HELP_HINT = "Try 'mirrord exec --help'.";

  @BeforeAll
  static void jarsAreBuilt() {
    MirrordRun.buildJarsOnce();
  }

  @Test
  void unknownFlag(NetnsLab lab) {
    try (MirrordRun run = mirrord(lab, "unknown-flag", "exec", "--bogus-flag", "--target", "pid/" + lab.podPid(), "--", "/bin/true")) {
      assertOneErrorLine(run, 2, "--bogus-flag");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void commandWithoutDoubleDash(NetnsLab lab) {
    try (MirrordRun run = mirrord(lab, "no-dashes", "exec", "--target", "pid/" + lab.podPid(), "/bin/true")) {
      assertOneErrorLine(run, 2, "'--'");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void missingTarget(NetnsLab lab) {
    try (MirrordRun run = mirrord(lab, "no-target", "exec", "--", "/bin/true")) {
      assertOneErrorLine(run, 2, "--target");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void unknownPid(NetnsLab lab) {
    assumeThat(Path.of("/proc/999999")).as("pid 999999 happens to exist").doesNotExist();
    try (MirrordRun run = mirrord(lab, "unknown-pid", "exec", "--target", "pid/999999", "--", "/bin/true")) {
      assertOneErrorLine(run, 3, "999999");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void unknownConfigKey(NetnsLab lab) throws IOException {
    Path config = lab.logDir().resolve("typo.json");
    Files.writeString(config, "{\"incomng\": {}}\n");
    try (MirrordRun run = mirrord(lab, "config-typo",
        "exec", "-f", config.toString(), "--target", "pid/" + lab.podPid(), "--", "/bin/true")) {
      assertOneErrorLine(run, 6, "incomng");
      assertNothingLeft(lab, run);
    }
  }

  /**
   * The agent answers Hello with {@code HelloRejected(2.0, …)}: the CLI (run from its jar so that the agent jar can be
   * swapped for a fake, which bin/mirrord does not allow) names both versions.
   */
  @Test
  void agentSpeakingAnIncompatibleProtocolVersion(NetnsLab lab) throws IOException {
    Path fakeAgent = fakeAgentJar(lab.logDir().resolve("fake-agent.jar"));
    String reply = helloRejectedFrame(new ProtocolVersion(2, 0), "this agent needs protocol 2.x");
    List<String> cli = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dmirrord.layer.jar=" + LabPaths.jar("mirrord-layer-agent"),
        "-Dmirrord.agent.jar=" + fakeAgent,
        "-jar", LabPaths.jar("mirrord-cli").toString(),
        "exec", "--target", "pid/" + lab.podPid(), "--", "/bin/true");
    try (MirrordRun run = MirrordRun.startCommand(lab, "protocol-2.0", Map.of(FakeAgentApp.REPLY_ENV, reply), cli)) {
      assertOneErrorLine(run, 7, "2.0", ProtocolVersion.CURRENT.toString());
      assertNothingLeft(lab, run);
    }
  }

  /**
   * A JVM's command starts beside the agent (a pid/N target): its layer waits in its handshake, so when the agent
   * turns out incompatible, the JVM is stopped before its main ran, and the CLI's one line is the whole story.
   */
  @Test
  void anIncompatibleAgentStopsTheJvmStartedBesideItBeforeItsMain(NetnsLab lab) throws IOException {
    Path fakeAgent = fakeAgentJar(lab.logDir().resolve("fake-agent-jvm.jar"));
    String reply = helloRejectedFrame(new ProtocolVersion(2, 0), "this agent needs protocol 2.x");
    List<String> cli = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dmirrord.layer.jar=" + LabPaths.jar("mirrord-layer-agent"),
        "-Dmirrord.agent.jar=" + fakeAgent,
        "-jar", LabPaths.jar("mirrord-cli").toString(),
        "exec", "--target", "pid/" + lab.podPid(), "--"));
    cli.addAll(JavaApps.command(dev.mirrord.jvm.e2e.apps.ProbeApp.class));
    try (MirrordRun run = MirrordRun.startCommand(lab, "protocol-2.0-jvm", Map.of(FakeAgentApp.REPLY_ENV, reply), cli)) {
      int code = run.waitFor(RUN);
      String why = run.outputForHumans();
      List<String> lines = run.stderr().lines().filter(l -> !l.startsWith(SessionE2EIT.PICKED_UP)).toList();
      assertThat(code).as("exit code\n%s", why).isEqualTo(7);
      assertThat(lines).as("stderr, but the JVM's own 'Picked up' line\n%s", why).singleElement().asString()
          .startsWith("mirrord: error: the mirrord agent speaks protocol 2.0 but this CLI speaks " + ProtocolVersion.CURRENT);
      assertThat(run.stdout()).as("the app's main never ran\n%s", why).isEmpty();
      assertThat(run.cliLog()).as(why).contains("[mirrord-agent-start]").contains("started '");
      assertNothingLeft(lab, run);
    }
  }

  @Test
  void notRoot(NetnsLab lab) throws IOException {
    Path jar = LabPaths.jar("mirrord-cli");
    assumeThat(Files.getPosixFilePermissions(jar).toString()).as("jars readable by others").contains("OTHERS_READ");
    // the CLI (uid nobody) writes its log into the run's directory
    try (MirrordRun run = MirrordRun.start(lab, "not-root",
        Map.of(), List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
        List.of("exec", "--target", "pid/" + lab.podPid(), "--", "/bin/true"),
        dir -> Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx")))) {
      assertOneErrorLine(run, 4, "root");
      assertNothingLeft(lab, run);
    }
  }

  /**
   * Two strangers connect to the running agent's unix socket: one sends random bytes announcing a frame larger than
   * the limit, one a well-sized frame of random bytes. Each is dropped with one line in the agent log, and the session
   * still serves: a JVM the app starts afterwards gets its layer connected through it.
   */
  @Test
  void garbageOnTheAgentSocketIsDroppedAndTheSessionKeepsWorking(NetnsLab lab) throws IOException {
    Path trigger = lab.logDir().resolve("garbage-trigger");
    Files.deleteIfExists(trigger);
    try (MirrordRun run = ExecE2EIT.exec(lab, "garbage", List.of(), JavaApps.command17(ControlledApp.class, trigger.toString()))) {
      run.awaitStdout(ControlledApp.READY_REGEX, RUN);
      Path socket = run.sessionDir().orElseThrow().resolve("agent.sock");
      Random random = new Random(20261125);
      byte[] oversized = new byte[4096];
      random.nextBytes(oversized);
      oversized[0] |= 0x40; // length field >= 1 GiB
      byte[] badFrame = new byte[4 + 64];
      random.nextBytes(badFrame);
      ByteBuffer.wrap(badFrame).putInt(64);
      for (byte[] garbage : List.of(oversized, badFrame)) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
          ch.connect(UnixDomainSocketAddress.of(socket));
          ch.write(ByteBuffer.wrap(garbage));
          // the agent hangs up on us (bounded by the test's timeout): EOF, or a reset when it
          // closes with our unread garbage still in its buffer
          ByteBuffer sink = ByteBuffer.allocate(256);
          try {
            while (ch.read(sink.clear()) >= 0) {
              // drain until EOF
            }
          } catch (IOException reset) {
            assertThat(reset).hasMessageContaining("reset");
          }
        }
      }

      Files.writeString(trigger, "go\n");
      assertThat(run.waitFor(RUN)).as("exit code\n%s", run.outputForHumans()).isZero();
      assertThat(run.appValues())
          .as("a JVM started after the garbage\n%s", run.outputForHumans())
          .containsEntry("late.mirrord.layer.connected", "true")
          .containsEntry("late.mirrord.target.netns", Long.toString(lab.netnsInode(Node.POD)))
          .containsEntry("app.late.exit", "0");
      List<String> dropped = run.agentLogText().lines().filter(l -> l.contains("closing connection")).toList();
      assertThat(dropped).as("agent log lines about the strangers\n%s", run.agentLogText()).hasSize(2);
      assertThat(dropped.get(0)).contains("bad frame");
      assertThat(run.agentLogText()).doesNotContain("\tat ");
      assertNothingLeft(lab, run);
    }
  }

  // --- helpers

  private static MirrordRun mirrord(NetnsLab lab, String name, String... args) {
    return MirrordRun.start(lab, name, List.of(args));
  }

  /**
   * Exit code {@code exit}; stderr is one {@code mirrord: error:} line mentioning each of {@code mentions} (plus, for
   * usage errors, the help hint); no stack trace anywhere; nothing on stdout.
   */
  static void assertOneErrorLine(MirrordRun run, int exit, String... mentions) {
    int code = run.waitFor(RUN);
    String why = run.outputForHumans();
    List<String> lines = run.stderr().lines().toList();
    System.out.println("[exec-e2e] " + run + " -> exit " + code + ": " + lines);
    assertThat(code).as("exit code\n%s", why).isEqualTo(exit);
    assertThat(lines.stream().filter(l -> l.startsWith("mirrord: error: ")).toList())
        .as("error lines\n%s", why)
        .singleElement()
        .satisfies(l -> assertThat(l).contains(mentions));
    assertThat(lines.stream().filter(l -> !l.startsWith("mirrord: error: ") && !l.equals(HELP_HINT)).toList())
        .as("other stderr lines\n%s", why)
        .isEmpty();
    assertThat(run.stderr()).doesNotContain("Exception").doesNotContain("\tat ");
    assertThat(run.stdout()).as("stdout").isEmpty();
  }

  /** The framed bytes of {@code HelloRejected(version, reason)} as the real codec writes them, in hex. */
  static String helloRejectedFrame(ProtocolVersion version, String reason) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.install(ch.pipeline(), Side.AGENT, new ChannelInboundHandlerAdapter());
    ch.writeOutbound(new Session.HelloRejected(version, reason));
    ByteBuf all = Unpooled.buffer();
    try {
      for (Object out = ch.readOutbound(); out != null; out = ch.readOutbound()) {
        ByteBuf b = (ByteBuf) out;
        all.writeBytes(b);
        b.release();
      }
      return ByteBufUtil.hexDump(all);
    } finally {
      all.release();
      ch.finishAndReleaseAll();
    }
  }

  /** A runnable jar of {@link FakeAgentApp} (its classes from the test classes), at {@code jar}. */
  static Path fakeAgentJar(Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, FakeAgentApp.class.getName());
    String pkg = FakeAgentApp.class.getPackageName().replace('.', '/');
    Path classes = JavaApps.testClasses().resolve(pkg);
    Files.createDirectories(jar.getParent());
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file, manifest);
        Stream<Path> list = Files.list(classes)) {
      List<Path> entries = new ArrayList<>(list
          .filter(p -> p.getFileName().toString().startsWith(FakeAgentApp.class.getSimpleName()))
          .toList());
      assertThat(entries).as("FakeAgentApp classes in %s", classes).isNotEmpty();
      for (Path p : entries) {
        out.putNextEntry(new JarEntry(pkg + "/" + p.getFileName()));
        out.write(Files.readAllBytes(p));
        out.closeEntry();
      }
    }
    return jar;
  }
}
