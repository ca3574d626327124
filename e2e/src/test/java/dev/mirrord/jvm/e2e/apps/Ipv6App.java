package dev.mirrord.jvm.e2e.apps;

import io.netty.resolver.ResolvedAddressTypes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code Ipv6App CHECK=TARGET...}: the outgoing and DNS checks of {@link OutgoingApp}, aimed at the lab's IPv6
 * addresses and names (see scripts/lab.sh: svc is fd00:198:18::20, {@code svc-v6} has only an AAAA record, {@code
 * svc-dual} an A and an AAAA record). Prints one line per argument, in order:
 *
 * <pre>
 *   dns=svc-dual ok 198.18.0.20,fd00:198:18:0:0:0:0:20      InetAddress.getAllByName: every address, the JVM's order
 *   tcp=[fd00:198:18::20]:9000 ok ping-tcp remote=/fd00:198:18:0:0:0:0:20:9000 inet=/fd00:198:18:0:0:0:0:20
 *                                                           java.net.Socket to a TCP echo (HOST:PORT, [IPv6]:PORT or
 *                                                           a name; a name is resolved first, as the JVM prefers)
 *   tcpchannel=…  udp=…  udpchannel=…                      SocketChannel, connected DatagramSocket / DatagramChannel
 *   netty6=[fd00:198:18::53]:53/svc-v6.default.svc.cluster.local ok fd00:198:18:0:0:0:0:20
 *                                                           Netty's DnsNameResolver, AAAA only, asking that server itself
 * </pre>
 *
 * and {@code <arg> failed <root cause>: <message> (<exception chain>)} otherwise. Exit code 0 only if every check
 * passed, else 1; 2 for a malformed argument. Every check is bounded by {@value OutgoingApp#TIMEOUT_MS} ms.
 */
public final class Ipv6App {
  private Ipv6App() {}

  /** One check of a target. */
  @FunctionalInterface
  private interface Check {
    String run(String target) throws Exception;
  }

  public static void main(String[] args) {
    boolean allOk = true;
    for (String arg : args) {
      int eq = arg.indexOf('=');
      Check check = eq < 0 ? null : check(arg.substring(0, eq));
      if (check == null) {
        System.err.println("Ipv6App: not CHECK=TARGET with CHECK one of dns tcp tcpchannel udp udpchannel netty6: " + arg);
        System.exit(2);
      }
      long t0 = System.nanoTime();
      String line;
      try {
        line = arg + " ok " + check.run(arg.substring(eq + 1));
      } catch (Throwable t) {
        allOk = false;
        line = arg + " failed " + OutgoingApp.describe(t);
      }
      System.out.println(line);
      System.out.flush();
      System.err.printf(Locale.ROOT, "Ipv6App: %s took %d ms%n", arg, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }
    System.exit(allOk ? 0 : 1);
  }

  private static Check check(String name) {
    switch (name) {
      case "dns":
        return Ipv6App::allAddresses;
      case "tcp":
        return t -> OutgoingApp.tcp(address(t));
      case "tcpchannel":
        return t -> OutgoingApp.tcpChannel(address(t));
      case "udp":
        return t -> OutgoingApp.udp(address(t));
      case "udpchannel":
        return t -> OutgoingApp.udpChannel(address(t));
      case "netty6":
        return t -> {
          int slash = t.indexOf('/');
          return OutgoingApp.netty(address(t.substring(0, slash)), t.substring(slash + 1), ResolvedAddressTypes.IPV6_ONLY);
        };
      default:
        return null;
    }
  }

  private static String allAddresses(String name) throws Exception {
    List<String> all = new ArrayList<>();
    for (InetAddress a : InetAddress.getAllByName(name)) {
      all.add(a.getHostAddress());
    }
    return String.join(",", all);
  }

  /** {@code HOST:PORT} or {@code [IPV6]:PORT}, resolved (a name through the JVM's resolver). */
  static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
