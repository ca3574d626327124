package dev.mirrord.jvm.layer;

/**
 * The layer's version and build, written in when it is built (this file is a template: the pom
 * filters {@code src/main/java-templates} into the generated sources). Constants, not the jar's
 * manifest: on the boot class path, {@code Package.getImplementationVersion()} reads the manifest
 * through {@code java.nio.file}, which loads {@code SocketChannelImpl} before the hooks are in, and
 * finding the jar for a cache key opens its whole directory in Java; either way the hooks then have
 * to retransform a class they could have hooked as it loads.
 */
final class LayerBuild {
  /** The project's version. */
  static final String VERSION = "${project.version}";

  /** The version and the build's time (UTC), to the millisecond: a rebuilt layer has another. */
  static final String ID = "${project.version}+${layer.build.time}";

  private LayerBuild() {}
}
