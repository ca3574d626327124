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
    if (!looksLikeLiteral(literal)) {
      throw new IllegalArgumentException("not an IP literal: " + literal);
    }
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP literal: " + literal, e);
    }
  }

  /**
   * Whether {@code s} could be an IP literal: IPv6 characters ({@code [0-9a-fA-F:.%]}) with a colon,
   * or an IPv4 dotted quad of 1-3 digits each. By hand, not with a regular expression: the layer
   * reads the relay addresses during its attach, where compiling a pattern is cold code.
   */
  static boolean looksLikeLiteral(String s) {
    if (s == null || s.isEmpty()) {
      return false;
    }
    if (s.indexOf(':') >= 0) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        boolean hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex && c != ':' && c != '.' && c != '%') {
          return false;
        }
      }
      return true;
    }
    int dots = 0;
    int digits = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '.') {
        if (digits == 0 || ++dots > 3) {
          return false;
        }
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (++digits > 3) {
          return false;
        }
      } else {
        return false;
      }
    }
    return dots == 3 && digits > 0;
  }
}
