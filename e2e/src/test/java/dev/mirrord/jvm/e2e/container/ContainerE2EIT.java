package dev.mirrord.jvm.e2e.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.ContainerProbeApp;
import dev.mirrord.jvm.e2e.apps.JavaApps;
import dev.mirrord.jvm.e2e.exec.MirrordRun;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * {@code mirrord exec --target container/NAME} against real podman containers ({@link PodmanLab}), the agent built into
 * its image by scripts/image.sh and run by podman + runc: privileged, in the host's PID namespace, given only the
 * target's container ID. Each run ends with nothing left: no agent container, no MIRRORD rule in either iptables back
 * end of the target's namespace, no agent process, no session directory. Skipped with the reason where podman cannot
 * run (not root, podman/debootstrap missing).
 */
class ContainerE2EIT {
  private static final Duration READY = Duration.ofSeconds(120);
  private static PodmanLab lab;
  private final List<MirrordRun> runs = new ArrayList<>();

  @BeforeAll
  static void setUp() {
    String why = PodmanLab.unavailable();
    if (why != null) {
      System.out.println("[e2e] podman unavailable, container e2e tests are SKIPPED: " + why);
    }
    Assumptions.assumeTrue(why == null, "podman unavailable: " + why);
    MirrordRun.buildJarsOnce();
    lab = PodmanLab.create();
  }

  @AfterAll
  static void tearDown() {
    if (lab != null) {
      lab.close();
      assertThat(lab.everything()).as("containers and networks of " + lab.prefix).isEmpty();
      assertThat(lab.strayImages()).as("images but the agent image").isEmpty();
    }
  }

  @AfterEach
  void closeRuns(TestInfo test) {
    runs.forEach(MirrordRun::close);
  }

  private MirrordRun mirrord(String name, String... args) {
    MirrordRun run = MirrordRun.start(lab.dir, name, Map.of(), List.of(args));
    runs.add(run);
    return run;
  }

  private static List<String> app() {
    return JavaApps.command17(ContainerProbeApp.class, lab.svc, "8080");
  }

  private static String[] exec(List<String> flags) {
    List<String> all = new ArrayList<>(List.of("exec"));
    all.addAll(flags);
    all.add("--");
    all.addAll(app());
    return all.toArray(String[]::new);
  }

  @Test
  void agentContainerStealsImportsEnvGoesOutByDnsNamesAndHandsBackAfterKill9OfTheAgentContainer() {
    MirrordRun run = mirrord("steal-kill9", exec(List.of("--target", "container/" + lab.web, "--agent-container", "--tcp-steal")));
    run.awaitStdout("app\\.listening 8080", READY);
    String session = run.sessionId().orElseThrow();
    String agent = "mirrord-agent-" + session;

    assertThat(run.stderr()).contains("mirrord: resolved container/" + lab.web + ": podman container " + lab.web);
    assertThat(run.stdout())
        .contains("env POD_NAME=web APP_SECRET=s3cr3t")
        .contains("dns ok " + lab.ip(lab.svc))
        .contains("tcp ok ping-tcp")
        .contains("udp ok ping-udp");
    assertThat(lab.get(lab.web, "/stolen")).isEqualTo("hello from app: GET /stolen\n");
    assertThat(lab.rules(lab.web)).contains("MIRRORD_IN_");
    // the agent ran in a container of the image, found the target by its container ID alone
    assertThat(lab.inspect(agent, "{{.ImageName}} {{.HostConfig.Privileged}} {{.HostConfig.PidMode}}"))
        .isEqualTo(lab.image + " true host");
    assertThat(lab.inspect(agent, "{{join .Args \" \"}}")).contains("--container-id podman://" + lab.id(lab.web))
        .doesNotContain("--target-pid");
    assertThat(run.agentLogText()).contains("for target pid " + lab.pid(lab.web));

    ExecResult kill = PodmanLab.podman(List.of("kill", "-s", "KILL", agent), 30);
    PodmanLab.check(kill, "podman kill " + agent);

    PodmanLab.await(() -> !lab.rules(lab.web).contains("MIRRORD"), Duration.ofSeconds(15), "steal rules gone");
    assertThat(lab.get(lab.web, "/")).isEqualTo(PodmanLab.WEB_BODY + "\n");
    PodmanLab.await(() -> lab.leftovers(List.of(session)).isEmpty(), Duration.ofSeconds(30), "agent container removed");
    PodmanLab.await(() -> run.stderr().contains("lost the connection to the agent"), Duration.ofSeconds(30), "the CLI's warning");
    run.signal("INT");
    run.waitFor(Duration.ofSeconds(30));
    assertNothingLeft(run, session);
  }

  @Test
  void agentContainerMirrorsWhileTheTargetAnswersAndLeavesNothingAfterSigint() {
    MirrordRun run = mirrord("mirror", exec(List.of("--target", "container/" + lab.web, "--agent-container")));
    run.awaitStdout("app\\.listening 8080", READY);
    String session = run.sessionId().orElseThrow();

    // the first mirrored request can race the capture's start: retry until the app has seen one
    PodmanLab.await(() -> {
      assertThat(lab.get(lab.web, "/mirrored")).contains("404 Not Found"); // busybox httpd answers, not the app
      return run.stdout().contains("req GET /mirrored");
    }, Duration.ofSeconds(30), "the app sees the mirrored request");
    assertThat(lab.rules(lab.web)).doesNotContain("MIRRORD");

    run.signal("INT");
    assertThat(run.waitFor(Duration.ofSeconds(60))).isEqualTo(130);
    assertNothingLeft(run, session);
  }

  @Test
  void stealHandsBackAfterSigintUsingTheIptablesBackEndThatHoldsTheTargetsRules() {
    // a rule in the legacy back end of the target's namespace, as on a node whose kube-proxy/CNI uses legacy
    String netns = "--net=/proc/" + lab.pid(lab.web) + "/ns/net";
    List<String> marker = List.of("PREROUTING", "-p", "tcp", "--dport", "1", "-j", "RETURN");
    PodmanLab.check(PodmanLab.run(concat(List.of("nsenter", netns, "iptables-legacy", "-t", "nat", "-A"), marker), 30),
        "legacy marker");
    try {
      MirrordRun run = mirrord("steal-sigint-legacy", exec(List.of("--target", "container/" + lab.web, "--agent-container", "--tcp-steal")));
      run.awaitStdout("app\\.listening 8080", READY);
      String session = run.sessionId().orElseThrow();

      assertThat(lab.get(lab.web, "/x")).isEqualTo("hello from app: GET /x\n");
      assertThat(run.agentLogText()).containsPattern("stealer ready: chains \\S+ / \\S+ with \\[iptables-legacy");
      String rules = lab.rules(lab.web);
      assertThat(rules.substring(rules.indexOf("# iptables-legacy-save"))).contains("MIRRORD_IN_");

      run.signal("INT");
      assertThat(run.waitFor(Duration.ofSeconds(60))).isEqualTo(130);
      assertThat(lab.get(lab.web, "/")).isEqualTo(PodmanLab.WEB_BODY + "\n");
      assertNothingLeft(run, session);
    } finally {
      PodmanLab.run(concat(List.of("nsenter", netns, "iptables-legacy", "-t", "nat", "-D"), marker), 30);
    }
  }

  @Test
  void localProcessAgentUnderNsenterStealsAndImportsTheContainersEnvironment() {
    MirrordRun run = mirrord("local", exec(List.of("--target", "container/" + lab.web, "--tcp-steal")));
    run.awaitStdout("app\\.listening 8080", READY);
    String session = run.sessionId().orElseThrow();

    assertThat(run.stdout()).contains("env POD_NAME=web APP_SECRET=s3cr3t").contains("tcp ok ping-tcp");
    assertThat(lab.get(lab.web, "/local")).isEqualTo("hello from app: GET /local\n");
    assertThat(lab.leftovers(List.of(session))).isEmpty(); // no agent container: a local process
    assertThat(run.agentLogText()).contains("for target pid " + lab.pid(lab.web));

    run.signal("INT");
    assertThat(run.waitFor(Duration.ofSeconds(60))).isEqualTo(130);
    assertThat(lab.get(lab.web, "/")).isEqualTo(PodmanLab.WEB_BODY + "\n");
    assertNothingLeft(run, session);
  }

  @Test
  void badContainerTargetsAreOneLineWithTheirExitCodes() {
    PodmanLab.check(PodmanLab.podman(concat(List.of("create", "--name", lab.prefix + "-stopped", "--network", "none"),
        List.of("--rootfs", lab.dir.resolve("rootfs").toString(), "/bin/busybox", "true")), 60), "create stopped");
    try {
      MirrordRun unknown = mirrord("unknown", "exec", "--target", "container/" + lab.prefix + "-wbe", "--", "true");
      MirrordRun stopped = mirrord("stopped", "exec", "--target", "container/" + lab.prefix + "-stopped", "--", "true");
      MirrordRun noRuntime = MirrordRun.start(lab.dir, "no-runtime", Map.of("MIRRORD_CONTAINER_RUNTIME", "none"),
          List.of("exec", "--target", "container/web", "--", "true"));
      runs.add(noRuntime);

      assertThat(unknown.waitFor(Duration.ofSeconds(60))).isEqualTo(3);
      assertThat(unknown.stderr().strip()).startsWith("mirrord: error: no container '" + lab.prefix + "-wbe' in podman")
          .contains("did you mean container/" + lab.web).doesNotContain("\n");
      assertThat(stopped.waitFor(Duration.ofSeconds(60))).isEqualTo(3);
      assertThat(stopped.stderr().strip()).isEqualTo("mirrord: error: podman container " + lab.prefix + "-stopped is created, not"
          + " running; start it (podman start " + lab.prefix + "-stopped) and try again");
      assertThat(noRuntime.waitFor(Duration.ofSeconds(60))).isEqualTo(9);
      assertThat(noRuntime.stderr().strip()).startsWith("mirrord: error: --target container/web needs podman or docker")
          .doesNotContain("\n");
    } finally {
      PodmanLab.podman(List.of("rm", "-f", "--ignore", lab.prefix + "-stopped"), 60);
    }
  }

  @Test
  void lsListsTheRunningContainers() {
    MirrordRun ls = mirrord("ls", "ls");
    assertThat(ls.waitFor(Duration.ofSeconds(60))).as(ls.stderr()).isZero();
    assertThat(ls.stdout().lines()).contains("container/" + lab.web, "container/" + lab.svc);
  }

  /**
   * The Kubernetes Job's way, on a real runtime: the image with the Job's container arguments and capabilities (as
   * AgentJobFactory builds them: {@code --container-id … --listen tcp:127.0.0.1:0 --no-stdin --accept-timeout S
   * --idle-timeout 10 --session-id ID}, NET_ADMIN NET_RAW SYS_ADMIN SYS_PTRACE, hostPID, not privileged, the token in
   * the environment). It finds the target by its ID in the runtime's cgroups, listens in the target's network
   * namespace, and is reached the way kubelet's port-forward reaches a pod (nsenter + socat into that namespace).
   */
  @Test
  void jobStyleAgentFindsTheTargetByContainerIdAloneAndServesThroughAPortForward() throws Exception {
    String job = lab.prefix + "-job";
    String token = "job-token-" + lab.prefix;
    List<String> run = new ArrayList<>(List.of("run", "-d", "--name", job, "--label", PodmanLab.OWNER_LABEL + "=" + ProcessHandle.current().pid(),
        "--pull=never", "--pid=host", "--network=none", "--cap-add", "NET_ADMIN,NET_RAW,SYS_ADMIN,SYS_PTRACE",
        "-e", "MIRRORD_AGENT_TOKEN=" + token));
    run.addAll(lab.ulimitFlags());
    run.addAll(List.of(lab.image, "--container-id", "podman://" + lab.id(lab.web), "--listen", "tcp:127.0.0.1:0",
        "--no-stdin", "--accept-timeout", "60", "--idle-timeout", "10", "--session-id", "job" + lab.prefix));
    PodmanLab.check(PodmanLab.podman(run, 60), "podman run " + job);
    Process forward = null;
    try {
      lab.awaitLog(job, "MIRRORD_AGENT_READY tcp:127.0.0.1:", Duration.ofSeconds(60));
      Matcher m = java.util.regex.Pattern.compile("MIRRORD_AGENT_READY tcp:127\\.0\\.0\\.1:(\\d+)")
          .matcher(PodmanLab.podman(List.of("logs", job), 30).stdout());
      assertThat(m.find()).isTrue();
      int agentPort = Integer.parseInt(m.group(1));
      String netns = "--net=/proc/" + lab.pid(lab.web) + "/ns/net";
      // the listener is inside the target's network namespace, not the agent container's
      assertThat(PodmanLab.run(List.of("nsenter", netns, "ss", "-Hltn"), 30).stdout())
          .containsPattern("127\\.0\\.0\\.1]?:" + agentPort + " ");

      int local;
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        local = s.getLocalPort();
      }
      Path forwardLog = lab.dir.resolve("job-forward.log");
      forward = new ProcessBuilder("socat", "TCP-LISTEN:" + local + ",bind=127.0.0.1,reuseaddr,fork",
          "EXEC:nsenter " + netns + " socat STDIO TCP\\:127.0.0.1\\:" + agentPort)
          .redirectErrorStream(true).redirectOutput(forwardLog.toFile()).start();
      int port = local;
      // watched with ss, not by connecting: every connection would be forwarded to the agent
      PodmanLab.await(() -> PodmanLab.run(List.of("ss", "-Hltn"), 10).stdout().contains("127.0.0.1:" + port + " "),
          Duration.ofSeconds(10), "the forward listening");

      try (AgentClient client = new AgentClient(new InetSocketAddress("127.0.0.1", local))) {
        Session.HelloOk ok = client.ask(new Session.Hello(ProtocolVersion.CURRENT, token, "container-e2e"),
            Session.HelloOk.class, Duration.ofSeconds(30));
        assertThat(ok.negotiated()).isEqualTo(ProtocolVersion.CURRENT);
        Target.TargetInfo info = client.ask(new Target.TargetInfoRequest(1), Target.TargetInfo.class, Duration.ofSeconds(30));
        assertThat(info.pid()).isEqualTo(lab.pid(lab.web));
        Target.EnvResponse env = client.ask(new Target.EnvRequest(2), Target.EnvResponse.class, Duration.ofSeconds(30));
        assertThat(((RemoteResult.Ok<Map<String, String>>) env.env()).value())
            .containsEntry("POD_NAME", "web").containsEntry("APP_SECRET", "s3cr3t");
      }
      // the client is gone: --idle-timeout 10 ends the agent, exit 0
      PodmanLab.await(() -> lab.inspect(job, "{{.State.Status}}").equals("exited"), Duration.ofSeconds(60), "the agent's idle exit");
      assertThat(lab.inspect(job, "{{.State.ExitCode}}")).isEqualTo("0");
      assertThat(lab.rules(lab.web)).doesNotContain("MIRRORD");
    } finally {
      if (forward != null) {
        forward.destroyForcibly();
      }
      PodmanLab.podman(List.of("rm", "-f", "-t", "0", "--ignore", job), 60);
    }
  }

  /** No agent container, no steal rule, no agent process for the target, no session directory. */
  private void assertNothingLeft(MirrordRun run, String session) {
    int targetPid = lab.pid(lab.web);
    PodmanLab.await(() -> lab.leftovers(List.of(session)).isEmpty(), Duration.ofSeconds(30),
        "no agent container of session " + session + " (" + run.dir() + ")");
    assertThat(lab.rules(lab.web)).doesNotContain("MIRRORD");
    PodmanLab.await(() -> agentProcesses(targetPid).isEmpty(), Duration.ofSeconds(15), "no agent process for pid " + targetPid);
    assertThat(run.sessionDir()).hasValueSatisfying(d -> assertThat(Files.exists(d)).isFalse());
  }

  private static List<Long> agentProcesses(int targetPid) {
    List<Long> found = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(p -> {
      String cmd = p.info().commandLine().orElse("");
      if (cmd.contains("mirrord-pod-agent") && cmd.contains("--target-pid " + targetPid)) {
        found.add(p.pid());
      }
    });
    return found;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
