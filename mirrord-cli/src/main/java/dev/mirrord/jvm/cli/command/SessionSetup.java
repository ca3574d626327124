package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.protocol.jvm.AotCache;
import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.LogSetup;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.ConfigLoader;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.exec.ExecSession;
import dev.mirrord.jvm.cli.exec.FeatureSupport;
import dev.mirrord.jvm.cli.exec.SessionDir;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.option.SessionOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code exec} and {@code session} resolve before anything starts: the merged config, the
 * target, the layer jar, the session id and log file, the agent launcher, and the warnings to show
 * once the agent is up.
 */
final class SessionSetup {
  private SessionSetup() {}

  /**
   * @param extraWarnings the command's own warnings (shown with the others)
   * @throws MirrordException on a missing target, a bad config, a missing layer jar
   */
  static ExecSession.Params prepare(
      SessionOptions options, CliEnvironment environment, PrintWriter err, List<String> extraWarnings) {
    ConfigLoader loader = new ConfigLoader(environment.env());
    MirrordConfig config = loader.load(options.configFile(), options.flags());
    TargetSpec target = config.targetSpec();
    if (target == null) {
      throw new MirrordException(
          ExitCode.USAGE,
          "no target given; pass --target pid/N, --target pod/NAME or --target targetless (or set \"target\" in the config file, or MIRRORD_TARGET)");
    }
    Path layerJar = layerJar(environment);

    String sessionId = SessionDir.newId();
    Path logFile =
        config.logFilePath() != null
            ? config.logFilePath()
            : environment.tmpDir().resolve("mirrord-" + sessionId + ".log");
    LogSetup.configure(logFile, config.isVerbose());
    String refusedCache = AotCache.refusedByThisJvm();
    if (refusedCache != null) {
      org.slf4j.LoggerFactory.getLogger(SessionSetup.class).warn("{}", refusedCache);
    } else if (System.getProperty(AotCache.PROPERTY) != null) {
      // Main recorded this start's check (AotCache.recordVerified) for the next starts
      String check =
          System.getProperty(AotCache.STAMP_PROPERTY) == null
              ? " (checked whole by an earlier start)"
              : " (checked whole at this start)";
      org.slf4j.LoggerFactory.getLogger(SessionSetup.class)
          .info("started from the AOT cache {}{}", System.getProperty(AotCache.PROPERTY), check);
    }

    UserNotices notices = new UserNotices(err);
    AgentLauncher launcher = environment.agentLaunchers().forTarget(target, environment, config, notices);
    // shown once the session is up, so that a failing start prints only its error line
    List<String> warnings = new ArrayList<>();
    if (!target.isKubernetes() && (config.namespace() != null || config.context() != null)) {
      warnings.add("--namespace and --context only apply to Kubernetes targets; ignored for " + target.describe());
    }
    if (!target.isKubernetes() && config.agent() != null && config.agent().isEphemeral()) {
      warnings.add("--ephemeral (agent.ephemeral) only applies to Kubernetes targets; ignored for " + target.describe());
    }
    if (!(target instanceof TargetSpec.Container) && config.agent() != null && config.agent().isContainer()) {
      warnings.add("--agent-container (agent.container) only applies to container/NAME targets; ignored for " + target.describe());
    }
    if (!(target instanceof TargetSpec.Pid) && config.agent() != null && config.agent().ttlSeconds() > 0) {
      warnings.add("--agent-ttl (agent.ttl) only applies to pid/N targets; ignored for " + target.describe());
    }
    if (target.isKubernetes() && config.acceptsInvalidCertificates()) {
      // before the launcher connects: the user sees it before anything is trusted
      notices.warn("-c (accept_invalid_certificates): the Kubernetes API server's TLS certificate is not checked");
    } else if (config.acceptsInvalidCertificates()) {
      warnings.add("-c (accept_invalid_certificates) only applies to Kubernetes targets; ignored for " + target.describe());
    }
    warnings.addAll(FeatureSupport.warnings(config));
    warnings.addAll(loader.warnings());
    warnings.addAll(extraWarnings);
    return new ExecSession.Params(
        environment, config, target, launcher, layerJar, sessionId, logFile, notices, warnings);
  }

  /** The layer jar from {@code -Dmirrord.layer.jar} or {@code MIRRORD_LAYER_JAR}. */
  static Path layerJar(CliEnvironment environment) {
    String jar = environment.propertyOrEnv("mirrord.layer.jar", "MIRRORD_LAYER_JAR");
    if (jar == null) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "the mirrord layer jar is not configured; run mirrord through bin/mirrord or set MIRRORD_LAYER_JAR=<path to mirrord-layer-agent.jar>");
    }
    Path path = Path.of(jar).toAbsolutePath();
    if (!Files.isRegularFile(path)) {
      throw new MirrordException(
          ExitCode.INSTALLATION,
          "the mirrord layer jar " + path + " does not exist; build it (mvn -pl mirrord-layer-agent package) or fix MIRRORD_LAYER_JAR");
    }
    return path;
  }
}
