package dev.mirrord.jvm.protocol;

import io.netty.util.NetUtil;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * mirrord's {@code outgoing.filter} (the CLI validates it, the layer applies it): which destinations go through the target. At most one of the
 * two lists is set (as in mirrord): {@code remote} — only matching destinations go remote; {@code
 * local} — matching destinations stay local. An entry is {@code [tcp://|udp://]<what>[:port]}
 * where {@code what} is a host name (as the app named it), an IP address ({@code [v6]} with a
 * port), a CIDR subnet, or empty/{@code *} (any address), e.g. {@code postgres:5432}, {@code
 * 10.0.0.0/8}, {@code udp://:53}, {@code [fd00::1]:80}.
 */
public final class OutgoingFilter {
  /** The filter that sends everything remote. */
  public static final OutgoingFilter NONE = new OutgoingFilter(List.of(), false);

  private final List<Entry> entries;
  private final boolean remoteList;

  private OutgoingFilter(List<Entry> entries, boolean remoteList) {
    this.entries = entries;
    this.remoteList = remoteList;
  }

  /**
   * Builds the filter from the session keys; throws {@link IllegalArgumentException} naming a bad
   * entry.
   */
  public static OutgoingFilter of(List<String> local, List<String> remote) {
    if (!local.isEmpty() && !remote.isEmpty()) {
      throw new IllegalArgumentException("outgoing.filter: set either 'local' or 'remote', not both");
    }
    boolean isRemote = !remote.isEmpty();
    List<Entry> parsed = new ArrayList<>();
    for (String e : isRemote ? remote : local) {
      parsed.add(Entry.parse(e));
    }
    return parsed.isEmpty() ? NONE : new OutgoingFilter(List.copyOf(parsed), isRemote);
  }

  /** Whether a connect to {@code to} over {@code udp}/TCP goes through the target. */
  public boolean remote(boolean udp, InetSocketAddress to) {
    if (entries.isEmpty()) {
      return true;
    }
    boolean match = false;
    for (Entry e : entries) {
      if (e.matches(udp, to)) {
        match = true;
        break;
      }
    }
    return remoteList == match;
  }

  @Override
  public String toString() {
    return entries.isEmpty() ? "none" : (remoteList ? "remote=" : "local=") + entries;
  }

  private record Entry(String text, Boolean udp, String host, byte[] net, int prefix, int port) {
    static Entry parse(String raw) {
      String s = raw.trim();
      Boolean udp = null;
      String lower = s.toLowerCase(Locale.ROOT);
      if (lower.startsWith("tcp://")) {
        udp = false;
        s = s.substring(6);
      } else if (lower.startsWith("udp://")) {
        udp = true;
        s = s.substring(6);
      }
      String what = s;
      int port = 0;
      if (s.startsWith("[")) {
        int close = s.indexOf(']');
        if (close < 0) {
          throw bad(raw);
        }
        what = s.substring(1, close);
        String rest = s.substring(close + 1);
        if (!rest.isEmpty()) {
          if (!rest.startsWith(":")) {
            throw bad(raw);
          }
          port = port(rest.substring(1), raw);
        }
      } else if (s.chars().filter(c -> c == ':').count() == 1) {
        int colon = s.indexOf(':');
        what = s.substring(0, colon);
        port = port(s.substring(colon + 1), raw);
      }
      if (what.equals("*")) {
        what = "";
      }
      if (what.isEmpty()) {
        if (port == 0 && udp == null) {
          throw bad(raw);
        }
        return new Entry(raw, udp, null, null, 0, port);
      }
      String addr = what;
      int prefix = -1;
      int slash = what.indexOf('/');
      if (slash >= 0) {
        addr = what.substring(0, slash);
        try {
          prefix = Integer.parseInt(what.substring(slash + 1));
        } catch (NumberFormatException e) {
          throw bad(raw);
        }
      }
      if (addr.matches("[0-9.]+") || addr.contains(":")) {
        byte[] net = NetUtil.createByteArrayFromIpAddressString(addr);
        if (net == null) {
          throw bad(raw);
        }
        int bits = net.length * 8;
        if (prefix < 0) {
          prefix = bits;
        }
        if (prefix > bits) {
          throw bad(raw);
        }
        return new Entry(raw, udp, null, net, prefix, port);
      }
      if (slash >= 0 || !addr.matches("[A-Za-z0-9_.-]+")) {
        throw bad(raw);
      }
      return new Entry(raw, udp, addr.toLowerCase(Locale.ROOT), null, 0, port);
    }

    boolean matches(boolean isUdp, InetSocketAddress to) {
      if (udp != null && udp != isUdp) {
        return false;
      }
      if (port != 0 && port != to.getPort()) {
        return false;
      }
      if (host != null) {
        String name = to.getHostString().toLowerCase(Locale.ROOT);
        return name.equals(host) || name.startsWith(host + ".");
      }
      if (net != null) {
        InetAddress a = to.getAddress();
        return a != null && inSubnet(a.getAddress());
      }
      return true;
    }

    private boolean inSubnet(byte[] a) {
      if (a.length != net.length) {
        return false;
      }
      int bits = a.length * 8;
      BigInteger mask = prefix == 0 ? BigInteger.ZERO
          : BigInteger.ONE.shiftLeft(prefix).subtract(BigInteger.ONE).shiftLeft(bits - prefix);
      return new BigInteger(1, a).and(mask).equals(new BigInteger(1, net).and(mask));
    }

    private static int port(String p, String raw) {
      try {
        int v = Integer.parseInt(p);
        if (v < 1 || v > 65535) {
          throw bad(raw);
        }
        return v;
      } catch (NumberFormatException e) {
        throw bad(raw);
      }
    }

    private static IllegalArgumentException bad(String raw) {
      return new IllegalArgumentException("bad outgoing.filter entry '" + raw
          + "' (expected [tcp://|udp://]<host|ip|cidr>[:port], e.g. postgres:5432, 10.0.0.0/8, udp://:53)");
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
