package dev.mirrord.jvm.cli;

import dev.mirrord.jvm.protocol.ProtocolVersion;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The build's version (from the pom: the jar's manifest, and {@code version.properties}). */
public final class VersionInfo implements IVersionProvider {

  /** e.g. {@code 0.1.0-SNAPSHOT}. */
  public static final String VERSION = load();

  /** What {@code mirrord --version} prints. */
  public static String versionLine() {
    return "mirrord-jvm " + VERSION + " (protocol " + ProtocolVersion.CURRENT + ")";
  }

  /** How the CLI names itself in {@code Hello.peer}. */
  public static String peerName() {
    return "cli " + VERSION;
  }

  @Override
  public String[] getVersion() {
    return new String[] {versionLine()};
  }

  /**
   * The jar manifest's {@code Implementation-Version}, which the AOT cache holds; else {@code version.properties}
   * (the classes directory of a build). Not the resource first: the first resource lookup on the class path opens the
   * fat jar and reads its whole central directory, ~35 ms of the start that nothing else needs then.
   */
  private static String load() {
    String manifest = VersionInfo.class.getPackage().getImplementationVersion();
    if (manifest != null) {
      return manifest;
    }
    try (InputStream in = VersionInfo.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
