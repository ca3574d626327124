package dev.mirrord.jvm.protocol;

/**
 * The protocol version a peer speaks. Peers with the same {@code major} can talk and use the
 * smaller {@code minor}; a different major is an incompatible change and the handshake fails with
 * a message naming both versions.
 */
public record ProtocolVersion(int major, int minor) implements Comparable<ProtocolVersion> {

  /** The version this build speaks. Bump minor for new tags, major for a changed shape. */
  public static final ProtocolVersion CURRENT = new ProtocolVersion(1, 5);

  public ProtocolVersion {
    if (major < 0 || minor < 0) {
      throw new IllegalArgumentException("negative version " + major + "." + minor);
    }
  }

  public boolean compatibleWith(ProtocolVersion other) {
    return major == other.major;
  }

  /** The version both peers use: the smaller of the two (same major assumed). */
  public ProtocolVersion negotiate(ProtocolVersion other) {
    return compareTo(other) <= 0 ? this : other;
  }

  @Override
  public int compareTo(ProtocolVersion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  @Override
  public String toString() {
    return major + "." + minor;
  }
}
