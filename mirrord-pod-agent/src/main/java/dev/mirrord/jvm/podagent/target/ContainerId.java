package dev.mirrord.jvm.podagent.target;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A container ID as Kubernetes reports it in {@code status.containerStatuses[].containerID}: {@code
 * <runtime>://<hex id>}, e.g. {@code containerd://3f4e…}, {@code cri-o://…}, {@code docker://…}. A
 * bare hex ID is accepted too (runtime unknown). The ID is 64 hex digits for all three runtimes;
 * at least 12 (Docker's short form) are required, so it cannot match by accident.
 */
public record ContainerId(String runtime, String id) {
  private static final Pattern HEX_ID = Pattern.compile("[0-9a-f]{12,64}");

  public ContainerId {
    if (!HEX_ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a container ID: '" + id + "' (expected 12-64 hex digits)");
    }
  }

  /**
   * Parses {@code runtime://id} or a bare ID.
   *
   * @throws IllegalArgumentException naming the expected form
   */
  public static ContainerId parse(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    int sep = t.indexOf("://");
    if (sep < 0) {
      return new ContainerId("unknown", t);
    }
    String runtime = t.substring(0, sep);
    if (runtime.isEmpty()) {
      throw new IllegalArgumentException("missing runtime in '" + text + "' (expected e.g. containerd://<id>)");
    }
    return new ContainerId(runtime, t.substring(sep + 3));
  }

  @Override
  public String toString() {
    return runtime + "://" + id;
  }
}
