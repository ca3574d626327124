package dev.mirrord.jvm.cli.config;

/**
 * The {@code MIRRORD_*} variables {@link ConfigLoader} reads. They override the config file and are
 * overridden by flags. Booleans accept {@code true/false/1/0/yes/no/on/off}; a {@code false} or an
 * empty value leaves the lower level alone. Lists are comma-separated.
 */
public enum ConfigEnvVar {
  MIRRORD_CONFIG_FILE("path of the config file when -f is not given"),
  MIRRORD_TARGET(
      "like --target: pid/N, pod/NAME[/container/C], deployment/NAME, statefulset/NAME, targetless,"
          + " container/NAME"),
  MIRRORD_TARGET_NAMESPACE("like --namespace"),
  MIRRORD_KUBE_CONTEXT("like --context"),
  MIRRORD_INCOMING_MODE("incoming.mode: mirror, steal or off"),
  MIRRORD_TCP_STEAL("true: like --tcp-steal (incoming.mode=steal)"),
  MIRRORD_PORT_MAP("like --port-map, comma list: 8080:80,9090:9091"),
  MIRRORD_IGNORE_PORTS("incoming.ignore_ports, comma list: 9999,8081"),
  MIRRORD_NO_OUTGOING("true: like --no-outgoing"),
  MIRRORD_NO_TCP_OUTGOING("true: like --no-tcp-outgoing"),
  MIRRORD_NO_UDP_OUTGOING("true: like --no-udp-outgoing"),
  MIRRORD_NO_REMOTE_DNS("true: like --no-remote-dns"),
  MIRRORD_NO_ENV("true: like --no-env"),
  MIRRORD_ENV_INCLUDE("like --env-include, comma list of globs"),
  MIRRORD_ENV_EXCLUDE("like --env-exclude, comma list of globs"),
  MIRRORD_LOG_FILE("like --log-file"),
  MIRRORD_VERBOSE("true: like -v"),
  MIRRORD_AGENT_IMAGE("agent.image: the pod agent's container image"),
  MIRRORD_AGENT_NAMESPACE("agent.namespace: where the agent Job runs (default: the target's)"),
  MIRRORD_AGENT_STARTUP_TIMEOUT("agent.startup_timeout: seconds the agent may take to get ready"),
  MIRRORD_AGENT_TTL("agent.ttl: seconds a pid/N target's agent stays after its session for the next mirrord exec to reuse"),
  MIRRORD_AGENT_EPHEMERAL("true: like --ephemeral (agent.ephemeral)"),
  MIRRORD_SKIP_BUILD_TOOLS("skip_build_tools: false puts the layer into build tools' own JVMs too"),
  MIRRORD_SKIP_JVMS("like --skip-jvms, comma list of main-class/jar globs"),
  MIRRORD_SKIP_PROCESSES("mirrord's name for MIRRORD_SKIP_JVMS (comma or ';' list)"),
  MIRRORD_AGENT_CONTAINER("true: like --agent-container (agent.container)"),
  MIRRORD_ACCEPT_INVALID_CERTIFICATES("true: like -c (accept_invalid_certificates)"),
  MIRRORD_HTTP_HEADER_FILTER("like --http-header-filter: incoming.http_filter.header_filter (a regex)"),
  MIRRORD_HTTP_PATH_FILTER("like --http-path-filter: incoming.http_filter.path_filter (a regex)"),
  MIRRORD_LAYER_ON_DISCONNECT("layer.on_disconnect: exit or continue");

  /** One line for help texts. */
  public final String help;

  ConfigEnvVar(String help) {
    this.help = help;
  }
}
