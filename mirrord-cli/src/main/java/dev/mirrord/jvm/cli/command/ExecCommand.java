package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.LogSetup;
import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.ConfigLoader;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.TargetSpec;
import dev.mirrord.jvm.cli.exec.ExecSession;
import dev.mirrord.jvm.cli.exec.FeatureSupport;
import dev.mirrord.jvm.cli.exec.JvmLauncher;
import dev.mirrord.jvm.cli.exec.SessionDir;
import dev.mirrord.jvm.cli.launch.AgentLauncher;
import dev.mirrord.jvm.cli.option.EnvOptions;
import dev.mirrord.jvm.cli.option.LoggingMixin;
import dev.mirrord.jvm.cli.option.NetworkOptions;
import dev.mirrord.jvm.cli.option.TargetOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mirrord exec [options] -- <command> [args…]}: runs the command against the target. */
@Command(
    name = "exec",
    mixinStandardHelpOptions = true,
    versionProvider = dev.mirrord.jvm.cli.VersionInfo.class,
    description = {
      "Run <command> with its JVMs' network traffic and environment taken from the target.",
      "Example: mirrord exec --target pid/4242 -- java -jar app.jar",
      "         mirrord exec --pod-name web -n shop -- java -jar app.jar"
    },
    footer = {
      "",
      "Config levels: defaults < -f FILE (or MIRRORD_CONFIG_FILE) < MIRRORD_* variables < flags.",
      "Variables: MIRRORD_TARGET, MIRRORD_TARGET_NAMESPACE, MIRRORD_KUBE_CONTEXT, MIRRORD_INCOMING_MODE,",
      "  MIRRORD_TCP_STEAL, MIRRORD_PORT_MAP, MIRRORD_IGNORE_PORTS, MIRRORD_NO_OUTGOING, MIRRORD_NO_TCP_OUTGOING,",
      "  MIRRORD_NO_UDP_OUTGOING, MIRRORD_NO_REMOTE_DNS, MIRRORD_NO_ENV, MIRRORD_ENV_INCLUDE, MIRRORD_ENV_EXCLUDE,",
      "  MIRRORD_LOG_FILE, MIRRORD_VERBOSE, MIRRORD_AGENT_IMAGE, MIRRORD_AGENT_NAMESPACE,",
      "  MIRRORD_AGENT_STARTUP_TIMEOUT, MIRRORD_AGENT_EPHEMERAL.",
      "Kubernetes: kubeconfig from KUBECONFIG, else ~/.kube/config, else the in-cluster service account.",
      "Exit status: the command's own (128+signal if killed); mirrord's errors: 2 usage, 3 target not found,",
      "  4 not permitted, 5 agent failed, 6 config, 7 protocol, 8 not supported here, 9 installation,",
      "  10 Kubernetes API unreachable."
    })
public final class ExecCommand implements Callable<Integer> {

  @ParentCommand MirrordCommand parent;

  @Spec CommandSpec spec;

  @Mixin TargetOptions targetOptions;

  @Mixin NetworkOptions networkOptions;

  @Mixin EnvOptions envOptions;

  @Mixin LoggingMixin loggingOptions;

  @Option(
      names = {"-f", "--config-file"},
      paramLabel = "FILE",
      description = "mirrord.json config file (see docs/mirrord.schema.json).")
  Path configFile;

  @Parameters(
      paramLabel = "<command>",
      arity = "0..*",
      description = "The command to run, after '--', e.g. -- java -jar app.jar.")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    List<String> cmd = checkedCommand();
    MirrordConfig flags =
        new MirrordConfig(
            targetOptions.target(),
            targetOptions.namespace(),
            targetOptions.context(),
            networkOptions.incoming(),
            networkOptions.outgoing(),
            networkOptions.dns(),
            envOptions.env(),
            loggingOptions.logFile(),
            loggingOptions.verbose(),
            targetOptions.agent());
    CliEnvironment environment = parent.environment();
    ConfigLoader loader = new ConfigLoader(environment.env());
    MirrordConfig config = loader.load(configFile, flags);
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

    UserNotices notices = new UserNotices(spec.commandLine().getErr());
    AgentLauncher launcher = environment.agentLaunchers().forTarget(target, environment, config, notices);
    // shown once the session is up, so that a failing start prints only its error line
    List<String> warnings = new ArrayList<>();
    if (!target.isKubernetes() && (config.namespace() != null || config.context() != null)) {
      warnings.add("--namespace and --context only apply to Kubernetes targets; ignored for " + target.describe());
    }
    if (!target.isKubernetes() && config.agent() != null && config.agent().isEphemeral()) {
      warnings.add("--ephemeral (agent.ephemeral) only applies to Kubernetes targets; ignored for " + target.describe());
    }
    warnings.addAll(FeatureSupport.warnings(config));
    warnings.addAll(loader.warnings());
    if (!JvmLauncher.looksLikeJvm(cmd)) {
      warnings.add(
          "'" + cmd.get(0) + "' does not look like a JVM; it will run without the mirrord layer unless it starts java itself");
    }
    return ExecSession.run(
        new ExecSession.Params(
            environment, config, target, launcher, layerJar, sessionId, logFile, cmd, notices, warnings));
  }

  /**
   * The command after {@code --}.
   *
   * @throws MirrordException USAGE if it is missing, or not separated by {@code --}
   */
  private List<String> checkedCommand() {
    List<String> args = spec.commandLine().getParseResult().originalArgs();
    int dashes = args.indexOf("--");
    if (command.isEmpty()) {
      throw new MirrordException(
          ExitCode.USAGE,
          "missing the command to run; add it after '--', e.g. mirrord exec --target pid/42 -- java -jar app.jar");
    }
    if (dashes < 0) {
      throw new MirrordException(
          ExitCode.USAGE,
          "missing '--' before the command '"
              + command.get(0)
              + "'; write mirrord exec [options] -- "
              + String.join(" ", command));
    }
    int afterDashes = args.size() - dashes - 1;
    if (command.size() > afterDashes) {
      throw new MirrordException(
          ExitCode.USAGE,
          "unexpected argument '"
              + command.get(0)
              + "' before '--'; options go before '--', the command after it");
    }
    return List.copyOf(command);
  }

  /** The layer jar from {@code -Dmirrord.layer.jar} or {@code MIRRORD_LAYER_JAR}. */
  private static Path layerJar(CliEnvironment environment) {
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
