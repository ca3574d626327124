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
    return dottedQuad(s) != null;
  }

  /**
   * The four bytes of {@code s} if it is an IPv4 address in dotted-quad form ({@code a.b.c.d}, each
   * 0–255 in 1–3 digits), else null. Without {@code InetAddress}: the layer reads its relay address
   * before its hooks are in, and {@code InetAddress} would load the JDK's resolver class then, which
   * the hooks would have to retransform instead of hooking it as it loads.
   */
  static byte[] ipv4(String s) {
    int[] parts = dottedQuad(s);
    if (parts == null) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      if (parts[i] > 255) {
        return null;
      }
      out[i] = (byte) parts[i];
    }
    return out;
  }

  /** The four parts of {@code s} if it has the shape {@code a.b.c.d}, 1–3 digits each; else null. */
  private static int[] dottedQuad(String s) {
    if (s == null) {
      return null;
    }
    int[] parts = new int[4];
    int part = 0;
    int digits = 0;
    for (int i = 0; i <= s.length(); i++) {
      char c = i < s.length() ? s.charAt(i) : '.';
      if (c >= '0' && c <= '9') {
        if (part == 4 || ++digits > 3) {
          return null;
        }
        parts[part] = parts[part] * 10 + (c - '0');
      } else if (c == '.' && digits > 0 && part < 4) {
        part++;
        digits = 0;
      } else {
        return null;
      }
    }
    return part == 4 ? parts : null;
  }
}
