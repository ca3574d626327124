package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.picocli.OptionSpecs;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Everything that says what a session is, shared by {@code exec} and {@code session}: the target,
 * incoming/outgoing/DNS, the environment import, the JVMs to skip, logging and the config file. Its
 * footer is the commands' help footer.
 */
public final class SessionOptions {

  /** The commands' help footer. */
  private static final String[] FOOTER = {
    "",
    "Config levels: defaults < -f FILE (or MIRRORD_CONFIG_FILE) < MIRRORD_* variables < flags.",
    "Variables: MIRRORD_TARGET, MIRRORD_TARGET_NAMESPACE, MIRRORD_KUBE_CONTEXT, MIRRORD_INCOMING_MODE,",
    "  MIRRORD_TCP_STEAL, MIRRORD_PORT_MAP, MIRRORD_IGNORE_PORTS, MIRRORD_NO_OUTGOING, MIRRORD_NO_TCP_OUTGOING,",
    "  MIRRORD_NO_UDP_OUTGOING, MIRRORD_NO_REMOTE_DNS, MIRRORD_NO_ENV, MIRRORD_ENV_INCLUDE, MIRRORD_ENV_EXCLUDE,",
    "  MIRRORD_LOG_FILE, MIRRORD_VERBOSE, MIRRORD_AGENT_IMAGE, MIRRORD_AGENT_NAMESPACE,",
    "  MIRRORD_AGENT_STARTUP_TIMEOUT, MIRRORD_AGENT_EPHEMERAL, MIRRORD_AGENT_CONTAINER,",
    "  MIRRORD_ACCEPT_INVALID_CERTIFICATES, MIRRORD_CONTAINER_RUNTIME (podman, docker or a path),",
    "  MIRRORD_SKIP_BUILD_TOOLS, MIRRORD_SKIP_JVMS.",
    "Build tools: the layer stays out of Maven's, Gradle's (client, wrapper, daemon) and similar tools' own",
    "  JVMs and loads into the JVMs they start (spring-boot:run, exec:exec, tests); --no-skip-build-tools",
    "  puts it into the tools too.",
    "Kubernetes: kubeconfig from KUBECONFIG, else ~/.kube/config, else the in-cluster service account.",
    "Exit status: exec: the command's own (128+signal if killed); session: 0 once ended by Ctrl-C or SIGTERM.",
    "  mirrord's errors: 2 usage, 3 target not found, 4 not permitted, 5 agent failed, 6 config, 7 protocol,",
    "  8 not supported here, 9 installation, 10 Kubernetes API unreachable."
  };

  final TargetOptions targetOptions = new TargetOptions();
  final NetworkOptions networkOptions = new NetworkOptions();
  final EnvOptions envOptions = new EnvOptions();
  final SkipOptions skipOptions = new SkipOptions();
  final LoggingMixin loggingOptions = new LoggingMixin();
  Path configFile;

  /** The model of these options, made by {@link #mixin}. */
  private CommandSpec mixin;

  /**
   * These options as a picocli mixin, with the footer: a command adds it with {@code
   * spec.addMixin("options", options.mixin())} and calls {@link #bind} once parsed.
   */
  public CommandSpec mixin() {
    CommandSpec m = CommandSpec.wrapWithoutInspection(this);
    m.usageMessage().footer(FOOTER);
    TargetOptions.addTo(m);
    NetworkOptions.addTo(m);
    EnvOptions.addTo(m);
    SkipOptions.addTo(m);
    LoggingMixin.addTo(m);
    m.addOption(
        OptionSpecs.option(
            new String[] {"-f", "--config-file"},
            "FILE",
            Path.class,
            "mirrord.json config file (see docs/mirrord.schema.json)."));
    mixin = m;
    return m;
  }

  /** Reads the parsed values into these options; before any of them is used. */
  public void bind() {
    targetOptions.bind(mixin);
    networkOptions.bind(mixin);
    envOptions.bind(mixin);
    skipOptions.bind(mixin);
    loggingOptions.bind(mixin);
    configFile = OptionSpecs.value(mixin, "--config-file", null);
  }

  /** The {@code -f} value, or null. */
  public Path configFile() {
    return configFile;
  }

  /**
   * The flags level of the config (null = not given).
   *
   * @throws dev.mirrord.jvm.cli.MirrordException USAGE for malformed values
   */
  public MirrordConfig flags() {
    return new MirrordConfig(
        targetOptions.target(),
        targetOptions.namespace(),
        targetOptions.context(),
        networkOptions.incoming(),
        networkOptions.outgoing(),
        networkOptions.dns(),
        envOptions.env(),
        loggingOptions.logFile(),
        loggingOptions.verbose(),
        targetOptions.agent(),
        skipOptions.skipBuildTools(),
        skipOptions.skipJvms(),
        null,
        targetOptions.acceptInvalidCertificates(),
        null);
  }
}
