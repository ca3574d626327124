package dev.mirrord.jvm.layer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mirrord.jvm.layer.testapp.ProbeApp;
import dev.mirrord.jvm.layer.testing.ChildJvm;
import dev.mirrord.jvm.layer.testing.FakeAgent;
import dev.mirrord.jvm.layer.testing.SessionFile;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The shaded layer in a child JVM, on every supported JDK, against FakeAgent. */
class LayerAgentIT {
  private static final String JDKS = "dev.mirrord.jvm.layer.testing.ChildJvm#jdks";

  @TempDir Path dir;
  private FakeAgent agent;

  @BeforeEach
  void startAgent() {
    agent = FakeAgent.start();
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  private ChildJvm.Result runProbe(Path jdk, String agentArgs, String... args) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    return ChildJvm.run(
        jdk, agentArgs, List.of(ChildJvm.testClasses()), ProbeApp.class, List.of(args), dir);
  }

  private Path session(Map<String, String> overrides) throws IOException {
    return SessionFile.write(dir, agent.port(), overrides);
  }

  private Path logFile() {
    return dir.resolve("layer.log");
  }

  private List<String> listenLines() throws IOException {
    if (!Files.exists(logFile())) {
      return List.of();
    }
    return Files.readAllLines(logFile()).stream()
        .filter(l -> l.contains(" listen port=") && !l.endsWith(" closed"))
        .collect(Collectors.toList());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }


  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectedAppSeesTheTargetItsListensAreLoggedAndItsExitCodeStands(String name, Path jdk)
      throws Exception {
    int fixed = freePort();

    ChildJvm.Result r =
        runProbe(jdk, session(Map.of("port.map", fixed + ":80")).toString(), "7", "" + fixed);

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(7);
    assertThat(r.stderr()).as("the layer prints nothing when all is well").isEmpty();
    int ssPort = Integer.parseInt(r.value("serverSocket.port"));
    int chPort = Integer.parseInt(r.value("channel.port"));
    assertThat(r.stdout())
        .as("stdout holds the app's lines only")
        .containsExactly(
            "mirrord.layer.connected=true",
            "mirrord.target.pid=" + FakeAgent.TARGET_PID,
            "mirrord.target.netns=" + FakeAgent.TARGET_NETNS,
            "mirrord.target.hostname=" + FakeAgent.TARGET_HOSTNAME,
            "mirrord.session.id=sess-1234",
            "serverSocket.port=" + ssPort,
            "channel.port=" + chPort,
            "fixed.boundAt=" + r.value("fixed.boundAt"),
            "fixed.port=" + fixed,
            "done=true");

    assertThat(listenLines())
        .as("ServerSocket, ServerSocketChannel and the fixed port, each once")
        .hasSize(3)
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "listen port=" + ssPort + " requested=0 address=0.0.0.0 ephemeral=true"
                            + " remotePort=" + ssPort + " mode=mirror decision=bypass:EPHEMERAL_PORT"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "listen port=" + chPort + " requested=0 address=127.0.0.1 ephemeral=true"
                            + " remotePort=" + chPort + " mode=mirror decision=bypass:EPHEMERAL_PORT"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "listen port=" + fixed + " requested=" + fixed
                            + " address=127.0.0.1 ephemeral=false remotePort=80 mode=mirror"
                            + " decision=HANDLED"));

    assertThat(agent.received(dev.mirrord.jvm.protocol.Tcp.PortSubscribe.class))
        .as("only the fixed port is subscribed, under its mapped remote port")
        .containsExactly(
            new dev.mirrord.jvm.protocol.Tcp.PortSubscribe(
                80, dev.mirrord.jvm.protocol.IncomingMode.MIRROR));
    String log = Files.readString(logFile());
    assertThat(log)
        .contains("listen port=" + fixed + " closed")
        .contains("subscribed target port 80 (MIRROR)")
        .contains("hooked java.net.ServerSocket")
        .contains(
            "target: pid=" + FakeAgent.TARGET_PID + " netns=" + FakeAgent.TARGET_NETNS
                + " hostname=" + FakeAgent.TARGET_HOSTNAME)
        .doesNotContain(FakeAgent.TOKEN)
        .doesNotContain("ERROR");

    List<Session.Hello> hellos = agent.received(Session.Hello.class);
    // the main connection's Hello only if it came up before the app's exit: nothing of this app waits for it
    assertThat(hellos).as("the start connection (then the first for connects), and the main one").hasSizeBetween(1, 2)
        .extracting(Session.Hello::token).containsOnly(FakeAgent.TOKEN);
    String peer = "layer pid=\\d+ " + ProbeApp.class.getName();
    assertThat(hellos.get(0).peer()).matches(peer + " \\(connects\\)");
    assertThat(hellos.subList(1, hellos.size())).extracting(Session.Hello::peer).allMatch(p -> p.matches(peer));
    assertThat(agent.received(Target.TargetInfoRequest.class))
        .containsExactly(new Target.TargetInfoRequest(1));
    assertThat(agent.peersOf(Target.TargetInfoRequest.class)).as("asked once, before main, on the start connection")
        .singleElement().asString().endsWith(" (connects)");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theBootLoaderHasTheWholeLayerByTheJarsBootClassPathAndItsHooksComeAsTheClassesLoad(
      String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    // a copy under the same name elsewhere: the manifest's path is relative to the jar
    Path jar = Files.copy(ChildJvm.layerJar(), Files.createDirectory(dir.resolve("lib")).resolve(ChildJvm.layerJar().getFileName()));
    Path cache = Files.createDirectory(dir.resolve("hook-cache"));
    String session = session(Map.of("log.level", "debug", "hook.cache.dir", cache.toString())).toString();
    List<String> jvmArgs = List.of("-Xlog:class+load=info:file=" + dir.resolve("classes.txt"));

    ChildJvm.Result r =
        ChildJvm.run(jar, jdk, jvmArgs, session, List.of(ChildJvm.testClasses()), ProbeApp.class, List.of("0"), dir);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(Files.readString(logFile())).contains("bootstrap classes: on the boot class path");
    List<String> layerClasses =
        Files.readAllLines(dir.resolve("classes.txt")).stream()
            .filter(l -> l.contains(" dev.mirrord.jvm.layer.") && !l.contains(".testapp."))
            .toList();
    assertThat(layerClasses).as("the layer's classes, Netty's too, loaded by the boot loader from the jar")
        .filteredOn(l -> l.endsWith(" source: " + jar)).hasSizeGreaterThan(100);
    assertThat(layerClasses).as("none by the system class loader (its sources are URLs)")
        .noneMatch(l -> l.contains(" source: file:") || l.contains(" source: jar:"));
    assertThat(listenLines()).hasSize(2);

    Files.delete(logFile());
    ChildJvm.Result again =
        ChildJvm.run(
            jar, jdk, List.of("-Xlog:class+load=info:file=" + dir.resolve("classes-again.txt")), session,
            List.of(ChildJvm.testClasses()), ProbeApp.class, List.of("0"), dir);
    assertThat(again.exitCode()).as(again.toString()).isZero();
    List<String> beforeMain = new java.util.ArrayList<>();
    for (String l : Files.readAllLines(dir.resolve("classes-again.txt"))) {
      if (l.contains(" " + ProbeApp.class.getName() + " ")) {
        break;
      }
      beforeMain.add(l);
    }
    assertThat(beforeMain).as("premain and the main connection's start link no lambda of the layer's own code"
            + " (~0.5 ms each in the app's cold JVM; LayerStartup says why)")
        .hasSizeGreaterThan(100)
        .noneMatch(l -> l.matches(".* dev\\.mirrord\\.jvm\\.layer\\.(?!shaded\\.)\\S*\\$\\$Lambda.*"));
    try (var dirs = Files.list(cache)) {
      assertThat(dirs.map(d -> d.getFileName().toString()).toList()).as("one cache for this build and JDK")
          .singleElement().asString().startsWith("hooks-");
    }
    List<String> hooked = Files.readAllLines(logFile()).stream().filter(l -> l.contains(" hooked ")).toList();
    assertThat(hooked).as("the second run's hooks come from the first one's cache")
        .isNotEmpty().allMatch(l -> l.endsWith("(cached)"));
    // (the first run's Byte Buddy loads them all before it can hook anything)
    assertThat(hooked).as("hooked as they load, not retransformed: the layer loads none of them before its hooks")
        .anyMatch(l -> l.contains("hooked sun.nio.ch.SocketChannelImpl (cached)"))
        .anyMatch(l -> l.matches(".* hooked java\\.net\\.InetAddress\\$Platform(Resolver|NameService) \\(cached\\)")) // 25 | 17
        .anyMatch(l -> l.contains("hooked java.io.RandomAccessFile (cached)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aCopyOfTheLayerUnderAnotherNameDefinesItsBootstrapClassesAndHooks(String name, Path jdk)
      throws Exception {
    assertThat(runRenamedLayer(jdk, List.of())).contains("bootstrap classes: defined");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theAppendFallbackForBootstrapClassesHooksToo(String name, Path jdk) throws Exception {
    assertThat(runRenamedLayer(jdk, List.of("-Dmirrord.layer.bootstrap=append", "-Xshare:off")))
        .contains("bootstrap classes: appended ");
  }

  /**
   * ProbeApp, connected and hooked, with a copy of the layer jar under another name: its
   * Boot-Class-Path (its own name) finds nothing, so the system class loader has the layer. The
   * layer log.
   */
  private String runRenamedLayer(Path jdk, List<String> jvmArgs) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path renamed = Files.copy(ChildJvm.layerJar(), dir.resolve("renamed-layer.jar"));

    ChildJvm.Result r =
        ChildJvm.run(
            renamed,
            jdk,
            jvmArgs,
            session(Map.of("log.level", "debug")).toString(),
            List.of(ChildJvm.testClasses()),
            ProbeApp.class,
            List.of("0"),
            dir);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).isEmpty();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(listenLines()).hasSize(2);
    return Files.readString(logFile());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void anAppReturningFromMainExitsAlthoughTheLayerIsConnected(String name, Path jdk)
      throws Exception {
    ChildJvm.Result r = runProbe(jdk, session(Map.of()).toString(), "return");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(r.stderr()).isEmpty();
  }

  /**
   * The CLI started this JVM while the agent starts and answers Hello only once the agent is up: the
   * layer waits as long as the session file's {@code handshake.timeout.ms} says, and no longer.
   */
  @Test
  void theHandshakeWaitsAsLongAsTheSessionFileSays() throws Exception {
    Path jdk = Path.of(System.getProperty("java.home"));
    agent.delayEveryHelloOk(2500);

    ChildJvm.Result waited = runProbe(jdk, session(Map.of("handshake.timeout.ms", "20000")).toString(), "return");
    assertThat(waited.exitCode()).as(waited.toString()).isZero();
    assertThat(waited.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(waited.stderr()).isEmpty();

    ChildJvm.Result gaveUp = runProbe(jdk, session(Map.of("handshake.timeout.ms", "1000")).toString(), "return");
    assertThat(gaveUp.exitCode()).as(gaveUp.toString()).isEqualTo(75);
    assertThat(gaveUp.stderr()).singleElement().asString().contains("in time");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aRejectedTokenPrintsOneLineAndTheAppRunsUnhooked(String name, Path jdk) throws Exception {
    ChildJvm.Result r = runProbe(jdk,
        session(Map.of("token", "wrong-token", "on.disconnect", "continue")).toString(), "return");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr())
        .containsExactly(
            "mirrord: layer disabled: mirrord rejected this layer: bad session token"
                + " (CLI protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT + ", layer protocol " + dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT + ") (see " + logFile() + ")");
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("null");
    assertThat(r.value("done")).isEqualTo("true");
    assertThat(listenLines()).as("unhooked").isEmpty();
    assertThat(Files.readString(logFile())).contains("layer disabled: mirrord rejected this layer");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aClosedCliPortPrintsOneLineAndTheAppRunsNormally(String name, Path jdk) throws Exception {
    int closed = freePort();
    Path session = SessionFile.write(dir, closed, Map.of("on.disconnect", "continue"));

    ChildJvm.Result r = runProbe(jdk, session.toString(), "3");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(3);
    assertThat(r.stderr()).hasSize(1);
    assertThat(r.stderr().get(0))
        .startsWith("mirrord: layer disabled: cannot connect to mirrord at 127.0.0.1:" + closed + ": ")
        .contains("refused")
        .endsWith("(see " + logFile() + ")");
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("null");
    assertThat(r.value("done")).isEqualTo("true");
    assertThat(listenLines()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aGarbageSessionFilePathPrintsOneLine(String name, Path jdk) throws Exception {
    String garbage = "/no/such/dir/session-\u00e9.properties";

    ChildJvm.Result r = runProbe(jdk, garbage, "return");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).hasSize(1);
    assertThat(r.stderr().get(0))
        .startsWith("mirrord: layer disabled: no mirrord session at /no/such/dir/session-")
        .endsWith(": it has ended (or not started yet); the app runs without mirrord");
    assertThat(r.value("done")).isEqualTo("true");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aSessionFileWithoutTokenPrintsOneLineNamingTheKeyAndTheFile(String name, Path jdk)
      throws Exception {
    Path session = session(java.util.Collections.singletonMap("token", null));

    ChildJvm.Result r = runProbe(jdk, session.toString(), "return");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr())
        .containsExactly(
            "mirrord: layer disabled: session file " + session + ": key 'token' is missing"
                + " (see " + logFile() + ")");
    assertThat(agent.received()).as("no connection attempt").isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectionLostLaterIsLoggedAndTheAppCarriesOn(String name, Path jdk) throws Exception {
    agent.closeMainAfterHandshake();

    ChildJvm.Result r = runProbe(jdk, session(Map.of("on.disconnect", "continue")).toString(), "5", "0",
        "await-disconnect");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(5);
    // The fake closes the main connection once it is up: the app may start before or after the loss.
    assertThat(r.value("mirrord.layer.connected")).isIn("true", "false");
    assertThat(r.value("mirrord.target.pid")).isEqualTo("" + FakeAgent.TARGET_PID);
    assertThat(r.value("after.connected")).isEqualTo("false");
    assertThat(r.value("done")).isEqualTo("true");
    assertThat(r.stderr()).isEmpty();
    assertThat(Files.readString(logFile())).contains("the app keeps running without mirrord");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectionLostLaterEndsTheJvmWithOneLineAndExitCode75(String name, Path jdk) throws Exception {
    agent.closeMainAfterHandshake();

    long t0 = System.nanoTime();
    ChildJvm.Result r =
        runProbe(jdk, session(Map.of()).toString(), "5", "0", "await-disconnect-keep-running");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(75);
    assertThat(r.stderr()).as(r.toString()).singleElement().asString()
        .startsWith("mirrord: lost the connection to mirrord at 127.0.0.1:" + agent.port()
            + " (the mirrord CLI exited, was killed or stopped answering); ending this JVM (pid ")
        .contains("with exit code 75 so that it does not run on without mirrord")
        .endsWith("(see " + logFile() + ")");
    assertThat(r.stdout()).as("the app, still running after the loss, was ended").doesNotContain("done=true");
    assertThat(System.nanoTime() - t0).as("well within the 10 s the app would wait").isLessThan(9_000_000_000L);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aConnectionClosedWhileTheAppExitsPrintsNothingAndKeepsItsExitCode(String name, Path jdk)
      throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    try (ChildJvm.Running r = ChildJvm.start(jdk, session(Map.of()).toString(),
        List.of(ChildJvm.testClasses()), dev.mirrord.jvm.layer.testapp.SlowExitApp.class, List.of(), dir)) {
      r.await("exiting", java.time.Duration.ofSeconds(30));
      // The main connection comes up beside the app's start, maybe only once main is over.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (agent.mainHelloOkSentAt() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      agent.disconnectAll(); // as the CLI does once the app's main process ended

      assertThat(r.process().waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(r.process().exitValue()).as(r.toString()).isEqualTo(4);
      assertThat(r.await("hook.connected", java.time.Duration.ofSeconds(1))).isEqualTo("false");
      assertThat(r.stderr()).as("nothing printed while exiting").isEmpty();
    }
  }

  /**
   * The app's shutdown hooks still reach the target (a lookup 200 ms into the shutdown), and only
   * then does the layer close its connection and let its thread end (the JVM's exit otherwise waits
   * 300 ms for that thread, idle in epoll_wait), whether the app calls System.exit or main returns.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void theAppsShutdownHooksReachTheTargetAndTheLayerLetsGoAfterThem(String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    for (String end : List.of("exit", "return")) {
      Path log = dir.resolve("layer.log");
      Files.deleteIfExists(log);
      ChildJvm.Result r = ChildJvm.run(jdk, List.of(), session(Map.of("log.level", "debug")).toString(),
          List.of(ChildJvm.testClasses()), dev.mirrord.jvm.layer.testapp.HookLookupApp.class, List.of("svc", end),
          dir);

      assertThat(r.exitCode()).as(end + ": " + r).isZero();
      assertThat(r.value("hook.svc")).as(end + ": " + r).isEqualTo("198.18.0.20");
      assertThat(r.value("hook.connected")).isEqualTo("true");
      String text = Files.readString(log);
      int lookup = text.indexOf("dns host=svc");
      int closed = text.indexOf("closed the connection after the app's shutdown hooks");
      assertThat(lookup).as(end + ": the hook's lookup in the layer log\n" + text).isPositive();
      assertThat(closed).as(end + ": the connection closed after the app's hooks\n" + text).isGreaterThan(lookup);
      assertThat(text).doesNotContain("had not ended yet").doesNotContain("ERROR");
    }
  }

  /**
   * The app's main does not wait for the layer's main connection (its Netty client): it starts once
   * the start connection has the CLI's HelloOk and TargetInfo, and a hook that needs the main
   * connection before it is up waits for it instead of letting the call go out locally.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void mainStartsBeforeTheMainConnectionIsUpAndAnEarlyLookupWaitsForIt(String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    agent.delayMainHelloOk(1500);

    ChildJvm.Result r = ChildJvm.run(jdk, List.of(), session(Map.of()).toString(),
        List.of(ChildJvm.testClasses()), dev.mirrord.jvm.layer.testapp.DnsProbeApp.class, List.of("svc"), dir);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    long mainAt = Long.parseLong(r.value("main.at"));
    assertThat(agent.mainHelloOkSentAt()).as(r.toString()).isPositive();
    assertThat(agent.mainHelloOkSentAt() - mainAt).as("main ran well before the main connection's HelloOk")
        .isGreaterThan(500);
    assertThat(r.value("mirrord.layer.connected")).isEqualTo("true");
    assertThat(r.value("svc")).as("resolved in the target, after waiting for the connection").isEqualTo("198.18.0.20");
    assertThat(agent.peersOf(dev.mirrord.jvm.protocol.Dns.LookupRequest.class)).singleElement().asString()
        .doesNotEndWith("(connects)");
    assertThat(Files.readString(logFile())).contains("main connection up").doesNotContain("ERROR")
        .doesNotContain("waited in vain");
  }

  /**
   * A bind before the main connection is up (its HelloOk comes 1.5 s late here) subscribes its port on the start
   * connection and returns at once: the app's first local request does not wait for the layer's Netty client.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void aBindBeforeTheMainConnectionIsUpSubscribesOnTheStartConnection(String name, Path jdk) throws Exception {
    agent.delayMainHelloOk(1500);
    int port = freePort();

    ChildJvm.Result r = runProbe(jdk, session(Map.of()).toString(), "0", Integer.toString(port));

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("fixed.port")).isEqualTo(Integer.toString(port));
    long helloOk = agent.mainHelloOkSentAt(); // 0: the app (bind, close, exit) ended before it was sent
    assertThat(helloOk == 0 ? Long.MAX_VALUE : helloOk - Long.parseLong(r.value("fixed.boundAt")))
        .as("the bind returned well before the main connection's HelloOk\n%s", r).isGreaterThan(500);
    assertThat(agent.peersOf(dev.mirrord.jvm.protocol.Tcp.PortUnsubscribe.class)).as("nor did its close wait")
        .singleElement().asString().endsWith("(connects)");
    assertThat(agent.peersOf(dev.mirrord.jvm.protocol.Tcp.PortSubscribe.class)).singleElement().asString()
        .endsWith("(connects)");
    assertThat(Files.readString(logFile()))
        .contains("subscribed target port " + port + " (MIRROR) on the start connection")
        .doesNotContain("ERROR");
  }

  /**
   * The start's frames (Hello, TargetInfo) are read and written without a Netty buffer
   * (StartFrames): a buffer starts Netty's PlatformDependent, ~75 ms of a cold JVM, which the app's
   * main waited for. It now starts on the main connection's thread.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void premainLeavesNettysBuffersToTheMainConnectionsThread(String name, Path jdk) throws Exception {
    assumeTrue(Files.isExecutable(jdk.resolve("bin/java")), "no JDK at " + jdk);
    Path inits = dir.resolve("inits.txt");

    ChildJvm.Result r = ChildJvm.run(ChildJvm.layerJar(), jdk, List.of("-Xlog:class+init=info:file=" + inits),
        session(Map.of()).toString(), List.of(ChildJvm.testClasses()), ProbeApp.class, List.of("0"), dir);

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.value("mirrord.target.pid")).as("TargetInfo read before main").isEqualTo("" + FakeAgent.TARGET_PID);
    List<String> all = Files.readAllLines(inits);
    assumeTrue(all.stream().anyMatch(l -> l.endsWith("by thread \"main\"")), "this JDK's class+init log names no thread");
    List<String> beforeMain = new java.util.ArrayList<>();
    for (String l : all) {
      if (l.contains("Initializing '" + ProbeApp.class.getName().replace('.', '/') + "'")) {
        break;
      }
      beforeMain.add(l);
    }
    String platform = "dev/mirrord/jvm/layer/shaded/io/netty/util/internal/PlatformDependent'";
    assertThat(beforeMain).as("the class inits up to the app's main class").hasSizeGreaterThan(100)
        .noneMatch(l -> l.contains(platform) && l.endsWith("by thread \"main\""));
    assertThat(all).as("Netty's buffers start on the main connection's thread")
        .anyMatch(l -> l.contains(platform) && l.endsWith("by thread \"mirrord-layer-connect\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource(JDKS)
  void noCliAtStartEndsTheJvmBeforeMainWithOneLine(String name, Path jdk) throws Exception {
    int closed = freePort();

    ChildJvm.Result r = runProbe(jdk, SessionFile.write(dir, closed, Map.of()).toString(), "3");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(75);
    assertThat(r.stderr()).singleElement().asString()
        .startsWith("mirrord: cannot start a session with mirrord: cannot connect to mirrord at 127.0.0.1:"
            + closed + ": ")
        .contains("ending this JVM");
    assertThat(r.stdout()).as("main never ran").isEmpty();
  }
}
