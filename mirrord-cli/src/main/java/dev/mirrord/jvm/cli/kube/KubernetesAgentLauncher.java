package dev.mirrord.jvm.cli.kube;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.launch.AgentRequest;
import dev.mirrord.jvm.cli.launch.RunningAgent;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.LocalPortForward;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the pod agent for a Kubernetes target, in four steps, each reported with its duration:
 *
 * <ol>
 *   <li><b>resolve</b> the target ({@link KubeTargets});
 *   <li><b>start</b> the agent: create the Job ({@link AgentJobFactory}) or, with {@code
 *       agent.ephemeral}, patch the target pod's ephemeral containers ({@link
 *       EphemeralAgentFactory});
 *   <li><b>wait</b> (at most {@code agent.startup_timeout}) until the agent container runs and its
 *       log has the {@code MIRRORD_AGENT_READY tcp:127.0.0.1:<port>} line; image pull failures and
 *       early exits end the wait at once, with the reason;
 *   <li><b>port-forward</b> a loopback port to that port of the pod whose network namespace the agent
 *       serves from (the target pod; the agent's own pod when targetless).
 * </ol>
 *
 * Closing the returned agent stops the port-forward and deletes the Job (background propagation,
 * so its pod goes too). A failed start deletes the Job before the error is thrown, and a shutdown
 * hook covers a CLI stopped mid-start. The agent itself exits when the CLI's connection closes, or
 * after {@code --idle-timeout} without one, so a lost laptop leaves nothing running.
 */
public final class KubernetesAgentLauncher implements AgentLauncher {
  private static final Logger logger = LoggerFactory.getLogger(KubernetesAgentLauncher.class);

  static final String READY_PREFIX = "MIRRORD_AGENT_READY ";
  /** After the CLI's connection closes, the agent waits this long for another client, then exits. */
  static final int IDLE_TIMEOUT_SECONDS = 10;
  static final int TTL_SECONDS_AFTER_FINISHED = 30;
  static final Set<String> IMAGE_PULL_FAILURES =
      Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable");
  static final Set<String> START_FAILURES =
      Set.of("CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff");

  /** Reads a container's log (fabric8's {@code getLog}; tests replace it). */
  @FunctionalInterface
  public interface LogReader {
    String read(KubernetesClient kube, String namespace, String pod, String container);
  }

  /** Forwards a loopback port to {@code port} of a pod (fabric8's {@code portForward}; tests replace it). */
  @FunctionalInterface
  public interface PortForwarder {
    Forward open(KubernetesClient kube, String namespace, String pod, int port) throws IOException;
  }

  /** An open port-forward. */
  public interface Forward extends AutoCloseable {
    SocketAddress localAddress();

    /** What failed so far on the API server's side of the forward (fabric8 opens it per connection). */
    default List<Throwable> errors() {
      return List.of();
    }

    @Override
    void close();
  }

  /**
   * What the launcher needs besides the cluster.
   *
   * @param target the spec to resolve ({@code pod/…}, {@code deployment/…}, {@code targetless})
   * @param agent {@code agent.*} config
   * @param owner {@code user@host} for the owner annotation
   * @param pollInterval how often the wait step looks at the agent pod
   */
  public record Settings(
      dev.mirrord.jvm.cli.config.TargetSpec target,
      MirrordConfig.Agent agent,
      String owner,
      Duration pollInterval) {
    public Settings {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(owner, "owner");
      Objects.requireNonNull(pollInterval, "pollInterval");
    }
  }

  private final Supplier<KubeClientFactory.Connection> connect;
  private final Settings settings;
  private final UserNotices notices;
  private final LogReader logs;
  private final PortForwarder forwarder;

  public KubernetesAgentLauncher(
      Supplier<KubeClientFactory.Connection> connect,
      Settings settings,
      UserNotices notices,
      LogReader logs,
      PortForwarder forwarder) {
    this.connect = Objects.requireNonNull(connect, "connect");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.notices = Objects.requireNonNull(notices, "notices");
    this.logs = Objects.requireNonNull(logs, "logs");
    this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
  }

  /** The real launcher: fabric8's log reading and port-forward. */
  public static KubernetesAgentLauncher create(
      Supplier<KubeClientFactory.Connection> connect, Settings settings, UserNotices notices) {
    return new KubernetesAgentLauncher(
        connect, settings, notices, KubernetesAgentLauncher::fabric8Log, KubernetesAgentLauncher::fabric8Forward);
  }

  @Override
  public RunningAgent launch(AgentRequest request) {
    KubeClientFactory.Connection connection = connect.get();
    KubernetesClient kube = connection.client();
    KubeCalls calls = new KubeCalls(connection.apiServer());
    Placement placement = null;
    Thread hook = null;
    boolean done = false;
    try {
      long t0 = System.nanoTime();
      ResolvedTarget target = new KubeTargets(kube, calls).resolve(settings.target(), connection.namespace());
      step("resolved " + target.describe() + (target.isTargetless() ? "" : " on node " + target.node()), t0);
      target.notices().forEach(notices::info);

      boolean ephemeral = settings.agent().isEphemeral();
      if (ephemeral && target.isTargetless()) {
        throw new MirrordException(
            ExitCode.USAGE, "--ephemeral needs a target pod; drop --ephemeral for targetless sessions");
      }
      String agentNamespace =
          ephemeral || settings.agent().namespace() == null ? target.namespace() : settings.agent().namespace();
      AgentParams params =
          new AgentParams(
              sessionId(request),
              agentNamespace,
              target,
              settings.agent().imageOrDefault(),
              0,
              request.token(),
              settings.owner(),
              settings.agent().startupTimeoutSeconds(),
              IDLE_TIMEOUT_SECONDS,
              TTL_SECONDS_AFTER_FINISHED,
              request.verbose(),
              request.flushConnections(),
              request.handBackGraceSeconds());

      if (MirrordConfig.Agent.DEFAULT_IMAGE.equals(params.image())) {
        notices.warn(
            "agent.image is not set; trying "
                + params.image()
                + ", which is not published yet: build mirrord-pod-agent/Dockerfile, push it and set agent.image (or MIRRORD_AGENT_IMAGE)");
      }
      t0 = System.nanoTime();
      placement = ephemeral ? startEphemeral(kube, calls, params) : startJob(kube, calls, params);
      Placement started = placement;
      hook = new Thread(() -> started.remove(kube), "mirrord-agent-start-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      step("started the agent (" + placement.describe() + ", image " + params.image() + ")", t0);

      t0 = System.nanoTime();
      AgentPod agentPod = awaitReady(kube, calls, placement, params);
      step("agent ready in pod " + agentPod.pod() + ", listening on " + agentPod.port(), t0);

      t0 = System.nanoTime();
      String forwardPod = target.isTargetless() ? agentPod.pod() : target.pod();
      Forward forward;
      try {
        forward = forwarder.open(kube, target.namespace(), forwardPod, agentPod.port());
      } catch (IOException e) {
        throw new MirrordException(
            ExitCode.AGENT_FAILED,
            "cannot port-forward to pod " + forwardPod + " port " + agentPod.port() + " (" + e.getMessage() + "); check RBAC create pods/portforward in namespace " + target.namespace(),
            e);
      }
      step("port-forward " + show(forward.localAddress()) + " -> pod/" + forwardPod + ":" + agentPod.port(), t0);
      done = true;
      return new KubeRunningAgent(
          connection,
          placement,
          forward,
          calls,
          target.namespace(),
          "pod/" + forwardPod + ":" + agentPod.port(),
          "agent " + placement.describe() + " for " + target.describe(),
          "kubectl logs " + agentPod.pod() + " -c " + placement.container() + " -n " + placement.namespace());
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      throw calls.translate("use", "the Kubernetes API", connection.namespace(), e);
    } finally {
      if (!done) {
        if (placement != null) {
          placement.remove(kube);
        }
        connection.close();
      }
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // shutting down: the hook removes the agent
        }
      }
    }
  }

  /** {@code 127.0.0.1:40000}, not {@code /127.0.0.1:40000}. */
  static String show(SocketAddress address) {
    if (address instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }

  private void step(String what, long startNanos) {
    long ms = (System.nanoTime() - startNanos) / 1_000_000;
    notices.info(what + String.format(Locale.ROOT, " (%.1f s)", ms / 1000.0));
  }

  /** Where the agent was put, and how to take it away again. */
  interface Placement {
    String namespace();

    /** The agent's pod, once known (the target pod for ephemeral). */
    Pod findPod(KubernetesClient kube, KubeCalls calls);

    String container();

    String describe();

    /**
     * Why no agent pod exists yet, if the cluster said so (a Job whose pod is refused: Pod Security,
     * quota); null if unknown. Best effort: never throws.
     */
    default String podCreationFailure(KubernetesClient kube) {
      return null;
    }

    /** Idempotent; never throws. */
    void remove(KubernetesClient kube);
  }

  private Placement startJob(KubernetesClient kube, KubeCalls calls, AgentParams params) {
    var job = AgentJobFactory.create(params);
    calls.call("create", "jobs", params.namespace(), () -> kube.batch().v1().jobs().inNamespace(params.namespace()).resource(job).create());
    return new JobPlacement(params.namespace(), params.agentName(), params.sessionId());
  }

  private Placement startEphemeral(KubernetesClient kube, KubeCalls calls, AgentParams params) {
    ResolvedTarget t = params.target();
    calls.call(
        "patch",
        "pods/ephemeralcontainers",
        t.namespace(),
        () ->
            kube.pods()
                .inNamespace(t.namespace())
                .withName(t.pod())
                .ephemeralContainers()
                .edit(
                    p -> {
                      if (Boolean.TRUE.equals(p.getSpec().getShareProcessNamespace())) {
                        notices.warn(
                            "pod "
                                + t.pod()
                                + " shares one process namespace: PID 1 there is the pause process, not "
                                + t.container()
                                + ", so the environment and DNS files come from the wrong process; drop --ephemeral to use the agent Job");
                      }
                      return EphemeralAgentFactory.withAgent(p, params);
                    }));
    return new EphemeralPlacement(t.namespace(), t.pod(), params.agentName());
  }

  record AgentPod(String pod, int port) {}

  /** Polls until the ready line, an unrecoverable state, or the startup timeout. */
  private AgentPod awaitReady(KubernetesClient kube, KubeCalls calls, Placement placement, AgentParams params) {
    Duration timeout = Duration.ofSeconds(settings.agent().startupTimeoutSeconds());
    long deadline = System.nanoTime() + timeout.toNanos();
    String lastState = "not created yet";
    while (true) {
      Pod pod = placement.findPod(kube, calls);
      if (pod == null) {
        String refused = placement.podCreationFailure(kube);
        if (refused != null) {
          throw new MirrordException(
              ExitCode.AGENT_FAILED,
              "the agent Job cannot create its pod ("
                  + oneLine(refused)
                  + "); the agent needs hostPID and the capabilities "
                  + String.join(", ", AgentJobFactory.CAPABILITIES)
                  + ": set agent.namespace to a namespace whose Pod Security level is privileged, or use --ephemeral");
        }
      }
      if (pod != null) {
        ContainerStatus status = agentStatus(pod, placement.container());
        lastState = describe(status);
        if (status != null && status.getState() != null) {
          var waiting = status.getState().getWaiting();
          if (waiting != null && IMAGE_PULL_FAILURES.contains(waiting.getReason())) {
            throw new MirrordException(
                ExitCode.AGENT_FAILED,
                "cannot pull the agent image "
                    + params.image()
                    + " ("
                    + waiting.getReason()
                    + (waiting.getMessage() == null ? "" : ": " + oneLine(waiting.getMessage()))
                    + "); push the image to a registry the cluster can pull from and set agent.image (see mirrord-pod-agent/README.md)");
          }
          if (waiting != null && START_FAILURES.contains(waiting.getReason())) {
            throw new MirrordException(
                ExitCode.AGENT_FAILED,
                "the agent container cannot start (" + waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + oneLine(waiting.getMessage())) + "); check kubectl describe pod " + pod.getMetadata().getName() + " -n " + placement.namespace());
          }
          var terminated = status.getState().getTerminated();
          if (terminated != null) {
            String tail = lastLines(safeLog(kube, placement.namespace(), pod.getMetadata().getName(), placement.container()));
            ExitCode code =
                switch (terminated.getExitCode() == null ? -1 : terminated.getExitCode()) {
                  case 3 -> ExitCode.TARGET_NOT_FOUND;
                  case 4 -> ExitCode.NOT_PERMITTED;
                  default -> ExitCode.AGENT_FAILED;
                };
            throw new MirrordException(
                code,
                "the agent exited with code " + terminated.getExitCode() + " before it was ready" + tail + "; see kubectl logs " + pod.getMetadata().getName() + " -c " + placement.container() + " -n " + placement.namespace());
          }
          if (status.getState().getRunning() != null) {
            String log = safeLog(kube, placement.namespace(), pod.getMetadata().getName(), placement.container());
            Integer port = readyPort(log);
            if (port != null) {
              return new AgentPod(pod.getMetadata().getName(), port);
            }
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new MirrordException(
            ExitCode.AGENT_FAILED,
            "the agent was not ready within " + timeout.toSeconds() + " s (" + lastState + "); raise agent.startup_timeout, or check kubectl get pods -l " + AgentLabels.SESSION + "=" + params.sessionId() + " -n " + placement.namespace());
      }
      try {
        Thread.sleep(settings.pollInterval().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new MirrordException(ExitCode.AGENT_FAILED, "interrupted while waiting for the agent; nothing is left running");
      }
    }
  }

  /** The port of the first {@code MIRRORD_AGENT_READY tcp:HOST:PORT} line, or null. */
  static Integer readyPort(String log) {
    if (log == null) {
      return null;
    }
    for (String line : log.split("\n")) {
      int at = line.indexOf(READY_PREFIX);
      if (at >= 0) {
        String address = line.substring(at + READY_PREFIX.length()).strip();
        int colon = address.lastIndexOf(':');
        try {
          return Integer.parseInt(address.substring(colon + 1));
        } catch (RuntimeException e) {
          throw new MirrordException(
              ExitCode.PROTOCOL, "the agent announced a bad address '" + address + "'; use an agent image that matches this CLI");
        }
      }
    }
    return null;
  }

  private String safeLog(KubernetesClient kube, String namespace, String pod, String container) {
    try {
      return logs.read(kube, namespace, pod, container);
    } catch (RuntimeException e) {
      logger.debug("cannot read the log of {}/{}: {}", pod, container, e.toString());
      return null;
    }
  }

  static ContainerStatus agentStatus(Pod pod, String container) {
    if (pod.getStatus() == null) {
      return null;
    }
    for (var list : List.of(
        nullToEmpty(pod.getStatus().getContainerStatuses()), nullToEmpty(pod.getStatus().getEphemeralContainerStatuses()))) {
      for (ContainerStatus s : list) {
        if (container.equals(s.getName())) {
          return s;
        }
      }
    }
    return null;
  }

  private static <T> List<T> nullToEmpty(List<T> l) {
    return l == null ? List.of() : l;
  }

  private static String describe(ContainerStatus s) {
    if (s == null || s.getState() == null) {
      return "agent container not started yet";
    }
    if (s.getState().getWaiting() != null) {
      return "agent container waiting: " + s.getState().getWaiting().getReason();
    }
    if (s.getState().getRunning() != null) {
      return "agent container running, no ready line yet";
    }
    return "agent container terminated";
  }

  private static String lastLines(String log) {
    if (log == null || log.isBlank()) {
      return "";
    }
    List<String> lines = log.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    return " (" + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())) + ")";
  }

  private static String oneLine(String s) {
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }

  /** The session id from the session dir's name ({@code mirrord-<id>}), lowercase for object names. */
  static String sessionId(AgentRequest request) {
    String dir = String.valueOf(request.socketPath().toAbsolutePath().getParent().getFileName());
    String id = dir.startsWith("mirrord-") ? dir.substring("mirrord-".length()) : dir;
    id = id.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "");
    return id.isEmpty() ? Long.toHexString(System.nanoTime()) : id;
  }

  static String fabric8Log(KubernetesClient kube, String namespace, String pod, String container) {
    return kube.pods().inNamespace(namespace).withName(pod).inContainer(container).getLog();
  }

  static Forward fabric8Forward(KubernetesClient kube, String namespace, String pod, int port) throws IOException {
    LocalPortForward f =
        kube.pods().inNamespace(namespace).withName(pod).portForward(port, InetAddress.getLoopbackAddress(), 0);
    InetSocketAddress local = new InetSocketAddress(f.getLocalAddress(), f.getLocalPort());
    return new Forward() {
      @Override
      public SocketAddress localAddress() {
        return local;
      }

      @Override
      public List<Throwable> errors() {
        List<Throwable> all = new java.util.ArrayList<>(f.getServerThrowables());
        all.addAll(f.getClientThrowables());
        return all;
      }

      @Override
      public void close() {
        try {
          f.close();
        } catch (IOException e) {
          logger.debug("closing the port-forward: {}", e.toString());
        }
      }
    };
  }

  /** The agent Job; its pod is found by the session label. */
  record JobPlacement(String namespace, String job, String sessionId) implements Placement {
    @Override
    public Pod findPod(KubernetesClient kube, KubeCalls calls) {
      List<Pod> pods =
          calls.call(
              "list", "pods", namespace,
              () -> kube.pods().inNamespace(namespace).withLabel(AgentLabels.SESSION, sessionId).list().getItems());
      return pods.isEmpty() ? null : pods.get(0);
    }

    @Override
    public String container() {
      return AgentLabels.AGENT_NAME;
    }

    /** The latest {@code FailedCreate} warning event of the Job (Pod Security, quota, admission webhooks). */
    @Override
    public String podCreationFailure(KubernetesClient kube) {
      try {
        return kube.v1().events().inNamespace(namespace).list().getItems().stream()
            .filter(e -> e.getInvolvedObject() != null && job.equals(e.getInvolvedObject().getName()))
            .filter(e -> "Job".equals(e.getInvolvedObject().getKind()))
            .filter(e -> "FailedCreate".equals(e.getReason()))
            .reduce((a, b) -> b)
            .map(io.fabric8.kubernetes.api.model.Event::getMessage)
            .orElse(null);
      } catch (RuntimeException e) {
        logger.debug("cannot read the events of job/{}: {}", job, e.toString());
        return null;
      }
    }

    @Override
    public String describe() {
      return "job/" + job + " in namespace " + namespace;
    }

    @Override
    public void remove(KubernetesClient kube) {
      try {
        kube.batch().v1().jobs().inNamespace(namespace).withName(job)
            .withPropagationPolicy(DeletionPropagation.BACKGROUND)
            .delete();
        logger.info("deleted job/{} in {}", job, namespace);
      } catch (RuntimeException e) {
        logger.warn("could not delete job/{} in {} ({}); it ends by itself once the agent exits", job, namespace, e.toString());
      }
    }
  }

  /** The agent as an ephemeral container of the target pod; it cannot be removed, only exit. */
  record EphemeralPlacement(String namespace, String pod, String container) implements Placement {
    @Override
    public Pod findPod(KubernetesClient kube, KubeCalls calls) {
      return calls.call("get", "pods", namespace, () -> kube.pods().inNamespace(namespace).withName(pod).get());
    }

    @Override
    public String describe() {
      return "ephemeral container " + container + " in pod/" + pod;
    }

    @Override
    public void remove(KubernetesClient kube) {
      // Kubernetes cannot remove ephemeral containers: the agent exits when the CLI's connection
      // closes or after its idle timeout, and stays listed as terminated.
    }
  }

  /** A running agent: closing stops the port-forward, removes the agent, closes the client. */
  static final class KubeRunningAgent implements RunningAgent {
    private final KubeClientFactory.Connection connection;
    private final Placement placement;
    private final Forward forward;
    private final KubeCalls calls;
    private final String forwardNamespace;
    private final String forwardTarget;
    private final String description;
    private final String logHint;
    private boolean closed;

    KubeRunningAgent(
        KubeClientFactory.Connection connection,
        Placement placement,
        Forward forward,
        KubeCalls calls,
        String forwardNamespace,
        String forwardTarget,
        String description,
        String logHint) {
      this.connection = connection;
      this.placement = placement;
      this.forward = forward;
      this.calls = calls;
      this.forwardNamespace = forwardNamespace;
      this.forwardTarget = forwardTarget;
      this.description = description;
      this.logHint = logHint;
    }

    /** A refused port-forward (RBAC, pod gone, nothing listening) instead of a bare connection error. */
    @Override
    public MirrordException explain(MirrordException failure) {
      List<Throwable> errors = forward.errors();
      if (errors.isEmpty()) {
        return failure;
      }
      for (Throwable t : errors) {
        for (Throwable c = t; c != null; c = c.getCause()) {
          if (c instanceof io.fabric8.kubernetes.client.KubernetesClientException k && k.getCode() > 0) {
            return calls.translate("create", "pods/portforward", forwardNamespace, k);
          }
        }
      }
      Throwable first = errors.get(0);
      return new MirrordException(
          ExitCode.AGENT_FAILED,
          "the port-forward to "
              + forwardTarget
              + " failed ("
              + KubeClientFactory.oneLine(first)
              + "); check that the pod still runs and see "
              + logHint,
          first);
    }

    @Override
    public String logHint() {
      return logHint;
    }

    @Override
    public SocketAddress address() {
      return forward.localAddress();
    }

    @Override
    public String describe() {
      return description;
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        forward.close();
      } catch (RuntimeException e) {
        logger.debug("closing the port-forward: {}", e.toString());
      }
      placement.remove(connection.client());
      connection.close();
    }
  }
}
