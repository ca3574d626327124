package dev.mirrord.jvm.cli.kube;

import java.util.LinkedHashMap;
import java.util.Map;

/** The labels and annotations on every agent object, so {@code kubectl} and clean-up can find them. */
public final class AgentLabels {
  private AgentLabels() {}

  public static final String NAME = "app.kubernetes.io/name";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String SESSION = "mirrord.dev/session";
  public static final String OWNER = "mirrord.dev/owner";
  public static final String TARGET = "mirrord.dev/target";
  public static final String TARGET_POD_UID = "mirrord.dev/target-pod-uid";

  public static final String AGENT_NAME = "mirrord-agent";
  public static final String MANAGER = "mirrord-jvm";

  /** {@code app.kubernetes.io/name=mirrord-agent, …/managed-by=mirrord-jvm, mirrord.dev/session=<id>}. */
  public static Map<String, String> labels(AgentParams p) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(NAME, AGENT_NAME);
    m.put(MANAGED_BY, MANAGER);
    m.put(SESSION, p.sessionId());
    return m;
  }

  /** Who started the agent, for which target. */
  public static Map<String, String> annotations(AgentParams p) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(OWNER, p.owner());
    m.put(SESSION, p.sessionId());
    m.put(TARGET, p.target().describe());
    if (p.target().podUid() != null) {
      m.put(TARGET_POD_UID, p.target().podUid());
    }
    return m;
  }
}
