package dev.mirrord.jvm.cli.config;

import java.util.Objects;

/**
 * What {@code --target} names. Syntax: {@code pid/N}, {@code pod/NAME[/container/C]}, {@code
 * deployment/NAME[/container/C]} ({@code deploy/} is accepted too), {@code
 * statefulset/NAME[/container/C]} ({@code sts/} too), {@code targetless} (no target: outgoing
 * traffic and DNS from an agent pod of its own), or {@code container/NAME} (a podman or Docker
 * container on this host, by name or ID).
 */
public sealed interface TargetSpec {

  /** The syntax, for error messages. */
  String SYNTAX =
      "pod/NAME[/container/C], deployment/NAME, statefulset/NAME, targetless, pid/N or container/NAME";

  /** Canonical text form, e.g. {@code pid/42}. */
  String describe();

  /** Whether reaching this target needs a Kubernetes cluster. */
  default boolean isKubernetes() {
    return !(this instanceof Pid) && !(this instanceof Container);
  }

  /** A process on this host; the agent enters its network namespace. */
  record Pid(int pid) implements TargetSpec {
    public Pid {
      if (pid <= 0) {
        throw new IllegalArgumentException("pid must be positive, got " + pid);
      }
    }

    @Override
    public String describe() {
      return "pid/" + pid;
    }
  }

  /**
   * A container of podman or Docker on this host, by name or ID (a prefix of 12+ hex digits too);
   * the agent enters its network namespace.
   */
  record Container(String name) implements TargetSpec {
    /** What podman and Docker accept as a container name, and hex IDs. */
    static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

    public Container {
      Objects.requireNonNull(name, "name");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "'" + name + "' is not a container name or ID (letters, digits, '_', '.', '-')");
      }
    }

    @Override
    public String describe() {
      return "container/" + name;
    }
  }

  /** A pod, optionally one container of it ({@code container} may be null). */
  record Pod(String name, String container) implements TargetSpec {
    public Pod {
      Objects.requireNonNull(name, "name");
    }

    @Override
    public String describe() {
      return "pod/" + name + (container == null ? "" : "/container/" + container);
    }
  }

  /** A deployment: one of its pods is picked. */
  record Deployment(String name, String container) implements TargetSpec {
    public Deployment {
      Objects.requireNonNull(name, "name");
    }

    @Override
    public String describe() {
      return "deployment/" + name + (container == null ? "" : "/container/" + container);
    }
  }

  /** A stateful set: one of its running pods is picked. */
  record StatefulSet(String name, String container) implements TargetSpec {
    public StatefulSet {
      Objects.requireNonNull(name, "name");
    }

    @Override
    public String describe() {
      return "statefulset/" + name + (container == null ? "" : "/container/" + container);
    }
  }

  /** No target: the agent runs in a pod of its own (outgoing traffic and DNS only). */
  record Targetless() implements TargetSpec {
    @Override
    public String describe() {
      return "targetless";
    }
  }

  /** The container the target names, or null; the pod-like records override it. */
  default String container() {
    return null;
  }

  /**
   * Parses the {@code --target} syntax.
   *
   * @throws IllegalArgumentException with a message naming the expected syntax
   */
  static TargetSpec parse(String text) {
    String t = text == null ? "" : text.strip();
    if (t.equals("targetless")) {
      return new Targetless();
    }
    String[] parts = t.split("/", -1);
    for (String p : parts) {
      if (p.isEmpty()) {
        throw bad(text);
      }
    }
    if (parts.length == 2 && parts[0].equals("pid")) {
      try {
        int pid = Integer.parseInt(parts[1]);
        if (pid > 0) {
          return new Pid(pid);
        }
      } catch (NumberFormatException e) {
        // fall through
      }
      throw new IllegalArgumentException(
          "'" + text + "' is not a valid target: the pid must be a positive number, e.g. pid/42");
    }
    if (parts.length == 2 && parts[0].equals("container")) {
      try {
        return new Container(parts[1]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("'" + text + "' is not a valid target: " + e.getMessage());
      }
    }
    boolean pod = parts[0].equals("pod");
    boolean deployment = parts[0].equals("deployment") || parts[0].equals("deploy");
    boolean statefulSet = parts[0].equals("statefulset") || parts[0].equals("sts");
    if ((pod || deployment || statefulSet)
        && (parts.length == 2 || (parts.length == 4 && parts[2].equals("container")))) {
      String container = parts.length == 4 ? parts[3] : null;
      if (pod) {
        return new Pod(parts[1], container);
      }
      return deployment ? new Deployment(parts[1], container) : new StatefulSet(parts[1], container);
    }
    throw bad(text);
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "'" + text + "' is not a valid target: expected " + SYNTAX);
  }
}
