package dev.mirrord.jvm.layer.socket;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP literals from the wire, parsed without any name lookup. */
public final class InetAddresses {
  private InetAddresses() {}

  /**
   * Parses an IPv4 or IPv6 literal. {@link InetAddress#getByName} never resolves a literal, but it
   * would resolve a name: anything that is not a literal is refused first.
   */
  public static InetAddress forLiteral(String literal) {
    if (literal == null || literal.isEmpty() || !literal.matches("[0-9a-fA-F:.%]+")
        || (!literal.contains(":") && !literal.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
      throw new IllegalArgumentException("not an IP literal: " + literal);
    }
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + literal, e);
    }
  }
}
