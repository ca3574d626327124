package dev.mirrord.jvm.layer.dns;

import dev.mirrord.jvm.layer.bootstrap.HookResult;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.socket.InetAddresses;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a name lookup by the app means for the session: the target resolves every name except those
 * that always mean this machine.
 *
 * <ul>
 *   <li>{@code localhost}, {@code *.localhost}, this machine's own host name, IP literals → local
 *       ({@code LOCAL_NAME}): {@code InetAddress.getLocalHost()} keeps working;
 *   <li>{@code dns.remote=false} → local ({@code DISABLED_BY_CONFIG});
 *   <li>no connection, or a CLI/agent older than protocol {@code Dns.SINCE} → local;
 *   <li>otherwise the target resolves it: its answer is returned; "no such name" (and a failure of
 *       the target's name servers) is an {@link UnknownHostException}, as the app would get in the
 *       pod; a failure of mirrord itself (no answer in time, lost connection) falls back to the
 *       JDK's own lookup.
 * </ul>
 *
 * The address family and order follow the JVM: the JDK 18+ lookup policy, or on JDK 17 {@code
 * java.net.preferIPv4Stack} (IPv4 only) and {@code java.net.preferIPv6Addresses} ({@code true}:
 * IPv6 first, {@code system}: the target's order, else IPv4 first). Each lookup the target answers
 * is one DEBUG line; bypasses for lack of a peer and mirrord's own failures are INFO/WARN.
 */
public final class DnsOps {
  /** {@code InetAddressResolver.LookupPolicy} characteristics (JDK 18+; the values are spec). */
  static final int IPV4 = 1;

  static final int IPV6 = 2;
  static final int IPV4_FIRST = 4;
  static final int IPV6_FIRST = 8;

  private final boolean remote;
  private final String ownHostname;
  private final RemoteResolver resolver;
  private final LayerLog log;
  private final boolean preferIpv4Stack;
  private final String preferIpv6Addresses;

  /**
   * @param remote {@code dns.remote} of the session
   * @param ownHostname this machine's host name (stays local), or {@code null} if unknown
   */
  public DnsOps(boolean remote, String ownHostname, RemoteResolver resolver, LayerLog log) {
    this(
        remote,
        ownHostname,
        resolver,
        log,
        Boolean.getBoolean("java.net.preferIPv4Stack"),
        System.getProperty("java.net.preferIPv6Addresses", "false"));
  }

  DnsOps(
      boolean remote,
      String ownHostname,
      RemoteResolver resolver,
      LayerLog log,
      boolean preferIpv4Stack,
      String preferIpv6Addresses) {
    this.remote = remote;
    this.ownHostname = normalize(ownHostname);
    this.resolver = resolver;
    this.log = log;
    this.preferIpv4Stack = preferIpv4Stack;
    this.preferIpv6Addresses = preferIpv6Addresses.trim().toLowerCase(Locale.ROOT);
  }

  /** Whether the target resolves {@code host} (not yet asking whether it can). */
  public HookResult decide(String host) {
    String name = normalize(host);
    if (name.isEmpty()
        || name.equals("localhost")
        || name.endsWith(".localhost")
        || name.equals(ownHostname)
        || isLiteral(name)) {
      return HookResult.bypass(HookResult.Reason.LOCAL_NAME);
    }
    if (!remote) {
      return HookResult.bypass(HookResult.Reason.DISABLED_BY_CONFIG);
    }
    return HookResult.HANDLED;
  }

  /**
   * Resolves {@code host} for the JDK's name service.
   *
   * @param characteristics the JDK 18+ lookup policy bits, or -1 (JDK 17: the JVM's properties)
   * @return the addresses (carrying {@code host} as their name), or {@code null}: the JDK resolves
   *     {@code host} itself
   * @throws UnknownHostException the target does not resolve {@code host}
   */
  public InetAddress[] lookup(String host, int characteristics) throws UnknownHostException {
    HookResult decision = decide(host);
    if (decision.isBypass()) {
      log.debug("dns host=" + host + " decision=" + decision);
      return null;
    }
    if (!resolver.available()) {
      log.info("dns host=" + host + " decision=bypass:" + HookResult.Reason.UNSUPPORTED_BY_PEER
          + " (no connection, or the CLI/agent has no remote DNS)");
      return null;
    }
    int chars = characteristics >= 0 ? characteristics : fromProperties();
    int family = familyOf(chars);
    long t0 = System.nanoTime();
    RemoteResult<List<String>> answer;
    try {
      answer = resolver.lookup(host, family);
    } catch (IOException | RuntimeException e) {
      log.warn("dns host=" + host + " decision=bypass:" + HookResult.Reason.ERROR
          + " (the JDK resolves it locally): " + e.getMessage());
      return null;
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (!answer.isOk()) {
      ResponseError error = ((RemoteResult.Err<List<String>>) answer).error();
      if (error instanceof ResponseError.NotFound || error instanceof ResponseError.RemoteIo) {
        if (log.isDebugEnabled()) {
          log.debug("dns host=" + host + " family=" + family + " decision=HANDLED answer="
              + error.describe() + " in " + ms + " ms");
        }
        throw unknownHost(host, error);
      }
      log.warn("dns host=" + host + " decision=bypass:" + HookResult.Reason.REMOTE_REFUSED
          + " (the JDK resolves it locally): " + error.describe());
      return null;
    }
    InetAddress[] addresses = order(host, answer.value(), chars);
    // DEBUG, not INFO: one line per lookup is nothing to act on, and writing it is a file write in
    // the app's thread, inside the lookup it times.
    if (log.isDebugEnabled()) {
      log.debug("dns host=" + host + " family=" + family + " decision=HANDLED answer="
          + answer.value() + " in " + ms + " ms");
    }
    if (addresses.length == 0) {
      throw unknownHost(host, new ResponseError.NotFound(host));
    }
    return addresses;
  }

  /** JDK 17: the lookup policy the JVM's properties stand for. */
  int fromProperties() {
    if (preferIpv4Stack) {
      return IPV4;
    }
    switch (preferIpv6Addresses) {
      case "true":
        return IPV4 | IPV6 | IPV6_FIRST;
      case "system":
        return IPV4 | IPV6;
      default:
        return IPV4 | IPV6 | IPV4_FIRST;
    }
  }

  static int familyOf(int characteristics) {
    boolean v4 = (characteristics & IPV4) != 0;
    boolean v6 = (characteristics & IPV6) != 0;
    if (v4 && !v6) {
      return Dns.IPV4;
    }
    if (v6 && !v4) {
      return Dns.IPV6;
    }
    return Dns.ANY;
  }

  /** The target's literals as addresses named {@code host}, filtered and ordered by the policy. */
  static InetAddress[] order(String host, List<String> literals, int characteristics)
      throws UnknownHostException {
    List<InetAddress> v4 = new ArrayList<>();
    List<InetAddress> v6 = new ArrayList<>();
    List<InetAddress> all = new ArrayList<>();
    for (String literal : literals) {
      InetAddress a = InetAddress.getByAddress(host, InetAddresses.forLiteral(literal).getAddress());
      if (a instanceof Inet4Address) {
        v4.add(a);
      } else if (a instanceof Inet6Address) {
        v6.add(a);
      }
      all.add(a);
    }
    boolean wantV4 = (characteristics & IPV4) != 0 || (characteristics & (IPV4 | IPV6)) == 0;
    boolean wantV6 = (characteristics & IPV6) != 0 || (characteristics & (IPV4 | IPV6)) == 0;
    List<InetAddress> out = new ArrayList<>();
    if ((characteristics & IPV6_FIRST) != 0) {
      addIf(out, v6, wantV6);
      addIf(out, v4, wantV4);
    } else if ((characteristics & IPV4_FIRST) != 0) {
      addIf(out, v4, wantV4);
      addIf(out, v6, wantV6);
    } else {
      for (InetAddress a : all) {
        if (a instanceof Inet4Address ? wantV4 : wantV6) {
          out.add(a);
        }
      }
    }
    return out.toArray(new InetAddress[0]);
  }

  private static void addIf(List<InetAddress> out, List<InetAddress> some, boolean wanted) {
    if (wanted) {
      out.addAll(some);
    }
  }

  private static UnknownHostException unknownHost(String host, ResponseError error) {
    String why =
        error instanceof ResponseError.NotFound
            ? "Name or service not known"
            : "Temporary failure in name resolution";
    return new UnknownHostException(host + ": " + why + " (resolved in the mirrord target: "
        + error.describe() + ")");
  }

  private static boolean isLiteral(String name) {
    try {
      InetAddresses.forLiteral(name.startsWith("[") && name.endsWith("]")
          ? name.substring(1, name.length() - 1) : name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static String normalize(String host) {
    if (host == null) {
      return "";
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }
}
