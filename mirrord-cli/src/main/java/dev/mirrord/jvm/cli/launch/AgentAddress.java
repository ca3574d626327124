package dev.mirrord.jvm.cli.launch;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** The address syntax of {@code --listen} and of the {@code MIRRORD_AGENT_READY} line. */
public final class AgentAddress {
  private AgentAddress() {}

  /** {@code unix:<path>} for a unix domain socket. */
  public static String unix(java.nio.file.Path path) {
    return "unix:" + path.toAbsolutePath();
  }

  /**
   * Parses {@code unix:/path}, {@code tcp:host:port} or {@code host:port}.
   *
   * @throws IllegalArgumentException if it is none of those
   */
  public static SocketAddress parse(String text) {
    String t = text.strip();
    if (t.startsWith("unix:")) {
      String path = t.substring("unix:".length());
      if (path.isEmpty()) {
        throw new IllegalArgumentException("empty unix socket path in '" + text + "'");
      }
      return UnixDomainSocketAddress.of(path);
    }
    if (t.startsWith("tcp:")) {
      t = t.substring("tcp:".length());
    }
    int colon = t.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("'" + text + "' is not an agent address (unix:/path or host:port)");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return InetSocketAddress.createUnresolved(host, Integer.parseInt(t.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + text + "' is not an agent address (unix:/path or host:port)");
    }
  }
}
