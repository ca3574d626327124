package dev.mirrord.jvm.cli.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * {@code LOCAL:REMOTE}: the app listens on {@code local}, the target's traffic arrives on {@code
 * remote}. Written as the string {@code "8080:80"} in flags, env, the config file and the session
 * file.
 */
public record PortMapping(int local, int remote) {

  public PortMapping {
    checkPort(local, "local");
    checkPort(remote, "remote");
  }

  /**
   * Parses {@code LOCAL:REMOTE}.
   *
   * @throws IllegalArgumentException naming the expected syntax
   */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static PortMapping parse(String text) {
    String t = text == null ? "" : text.strip();
    int colon = t.indexOf(':');
    if (colon <= 0 || colon == t.length() - 1 || t.indexOf(':', colon + 1) >= 0) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a port mapping: expected LOCAL:REMOTE, e.g. 8080:80");
    }
    return new PortMapping(
        parsePort(t.substring(0, colon), text), parsePort(t.substring(colon + 1), text));
  }

  /** Parses one port number 1-65535. */
  public static int parsePort(String text, String context) {
    try {
      int p = Integer.parseInt(text.strip());
      if (p >= 1 && p <= 65535) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException(
        "'" + context + "' has a bad port '" + text + "': ports are 1-65535");
  }

  @JsonValue
  @Override
  public String toString() {
    return local + ":" + remote;
  }

  private static void checkPort(int port, String which) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(which + " port " + port + " is out of range 1-65535");
    }
  }
}
