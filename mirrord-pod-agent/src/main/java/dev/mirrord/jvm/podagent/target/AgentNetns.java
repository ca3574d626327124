package dev.mirrord.jvm.podagent.target;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The network namespace the agent process is in. The agent never assumes it is the target's: it
 * reports what {@code /proc/self/ns/net} is, so the CLI can compare it with the target's.
 */
public final class AgentNetns {
  private static final Path SELF_NETNS = Path.of("/proc/self/ns/net");

  private AgentNetns() {}

  /** Inode of {@code /proc/self/ns/net} (equal to {@code stat -L -c %i /proc/self/ns/net}). */
  public static long inode() throws IOException {
    return inodeOf(SELF_NETNS);
  }

  /** Inode of a namespace link such as {@code /proc/N/ns/net}. */
  public static long inodeOf(Path nsLink) throws IOException {
    return ((Number) Files.getAttribute(nsLink, "unix:ino")).longValue();
  }

  /**
   * Non-loopback addresses of this namespace's interfaces, IPv4 first, as literals without a scope
   * suffix. IPv6 link-local addresses are left out: they mean nothing without their interface.
   */
  public static List<String> addresses() throws SocketException {
    List<String> v4 = new ArrayList<>();
    List<String> v6 = new ArrayList<>();
    for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
      for (InetAddress a : Collections.list(nif.getInetAddresses())) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()) {
          continue;
        }
        String literal = a.getHostAddress();
        int scope = literal.indexOf('%');
        if (scope >= 0) {
          literal = literal.substring(0, scope);
        }
        (a instanceof Inet6Address ? v6 : v4).add(literal);
      }
    }
    v4.addAll(v6);
    return List.copyOf(v4);
  }
}
