package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Which configured features this build actually delivers. A feature that is on in the config but
 * not built yet gets one warning line, never a silent no-op. Move a feature into {@link
 * #IMPLEMENTED} when its layer and agent parts land.
 */
public final class FeatureSupport {

  /** Features a config can turn on. */
  public enum Feature {
    INCOMING_MIRROR("incoming traffic mirroring"),
    INCOMING_STEAL("incoming traffic stealing (--tcp-steal)"),
    OUTGOING_TCP("outgoing TCP through the target"),
    OUTGOING_UDP("outgoing UDP through the target"),
    REMOTE_DNS("remote DNS");

    public final String description;

    Feature(String description) {
      this.description = description;
    }
  }

  /** Delivered end to end by this build. */
  static final Set<Feature> IMPLEMENTED =
      EnumSet.of(
          Feature.INCOMING_MIRROR,
          Feature.INCOMING_STEAL,
          Feature.OUTGOING_TCP,
          Feature.OUTGOING_UDP,
          Feature.REMOTE_DNS);

  private FeatureSupport() {}

  /** The features {@code config} turns on. */
  public static Set<Feature> requested(MirrordConfig config) {
    Set<Feature> on = EnumSet.noneOf(Feature.class);
    switch (config.incoming().mode()) {
      case MIRROR -> on.add(Feature.INCOMING_MIRROR);
      case STEAL -> on.add(Feature.INCOMING_STEAL);
      case OFF -> {}
    }
    if (Boolean.TRUE.equals(config.outgoing().tcp())) {
      on.add(Feature.OUTGOING_TCP);
    }
    if (Boolean.TRUE.equals(config.outgoing().udp())) {
      on.add(Feature.OUTGOING_UDP);
    }
    if (Boolean.TRUE.equals(config.dns().remote())) {
      on.add(Feature.REMOTE_DNS);
    }
    return on;
  }

  /** One warning text per requested feature that is not built yet. */
  public static List<String> warnings(MirrordConfig config) {
    List<String> lines = new ArrayList<>();
    for (Feature f : requested(config)) {
      if (!IMPLEMENTED.contains(f)) {
        lines.add(f.description + " is not implemented yet; traffic stays local");
      }
    }
    return lines;
  }
}
