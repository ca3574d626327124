package dev.mirrord.jvm.cli.proxy;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where this session's connections to the app come from, so that the layer knows a relayed
 * connection by its peer alone and answers every other one (the developer's own {@code curl}) at
 * once, without looking anything up:
 *
 * <ul>
 *   <li>{@link #v4()}: a loopback address of the session's own, {@code 127.a.b.c}, picked at
 *       random and not used by any socket on this machine when the session starts. Linux routes
 *       all of 127.0.0.0/8 to {@code lo}, so relays bound to it reach an app on 127.0.0.1, 0.0.0.0
 *       or a dual-stack {@code ::}. The outgoing flows' loopback listeners bind to it too: the CLI's
 *       sockets then share one port space, so a relay's port never names an outgoing flow too.
 *   <li>{@link #nextV6Source()}: for an app that listens on {@code ::1} only (IPv4 cannot reach
 *       it, and IPv6 has no other loopback address), {@code [::1]} with a source port from a range
 *       of {@link #V6_PORTS} ports below the kernel's ephemeral range, which no connecting socket
 *       gets by itself.
 * </ul>
 *
 * Where 127.a.b.c cannot be bound (a system that only has 127.0.0.1), the session falls back to
 * 127.0.0.1: relays still work, but the layer then checks every connection from 127.0.0.1 to a
 * subscribed port against its relay table, waiting for an unknown one (as before this existed).
 */
public final class RelayAddresses {
  private static final Logger logger = LoggerFactory.getLogger(RelayAddresses.class);

  /**
   * Size of the IPv6 source port range: the most relays open at once to an app on {@code ::1} only
   * (a port in use is skipped).
   */
  static final int V6_PORTS = 1024;

  /** The IPv6 range lies at or above this port (below it are many well-known services). */
  static final int V6_RANGE_FLOOR = 10_000;

  private static final int ATTEMPTS = 64;

  private final InetAddress v4;
  private final int ports6From;
  private final int ports6To;
  private final AtomicInteger nextV6;

  RelayAddresses(InetAddress v4, int ports6From, int ports6To) {
    this.v4 = v4;
    this.ports6From = ports6From;
    this.ports6To = ports6To;
    this.nextV6 = new AtomicInteger(ports6From);
  }

  /** Picks this session's addresses (see the class comment). */
  public static RelayAddresses pick() {
    return pick(new SecureRandom(), Path.of("/proc"));
  }

  static RelayAddresses pick(Random random, Path proc) {
    InetAddress v4 = pickV4(random, proc);
    int[] range = pickV6Range(random, proc);
    RelayAddresses r = new RelayAddresses(v4, range[0], range[1]);
    logger.info("relays to the app come from {}", r);
    return r;
  }

  private static InetAddress pickV4(Random random, Path proc) {
    String sockets = read(proc.resolve("net/tcp")) + read(proc.resolve("net/tcp6"));
    for (int i = 0; i < ATTEMPTS; i++) {
      // 127.1.0.1 – 127.254.255.254: not 127.0.x.x (127.0.0.1, systemd-resolved's 127.0.0.53,
      // Debian's 127.0.1.1 host name), no .0 or .255 host part.
      byte[] b = {127, (byte) (1 + random.nextInt(254)), (byte) random.nextInt(256),
          (byte) (1 + random.nextInt(254))};
      InetAddress a = address(b);
      if (sockets.contains(procHex(b)) || !bindable(a)) {
        continue;
      }
      return a;
    }
    logger.warn("no loopback address of its own could be bound (only 127.0.0.1?); relays come from"
        + " 127.0.0.1, and the app's own connections from 127.0.0.1 to a mirrored port are checked"
        + " against the relays");
    return InetAddress.getLoopbackAddress();
  }

  /**
   * {@code {from, to}} below the kernel's ephemeral range ({@code ip_local_port_range}), or {@code
   * {0, -1}} if there is no room.
   */
  static int[] pickV6Range(Random random, Path proc) {
    int low = 32768;
    String range = read(proc.resolve("sys/net/ipv4/ip_local_port_range")).trim();
    if (!range.isEmpty()) {
      try {
        low = Integer.parseInt(range.split("\\s+")[0]);
      } catch (NumberFormatException e) {
        logger.debug("ip_local_port_range '{}': {}", range, e.toString());
      }
    }
    int room = low - V6_PORTS - V6_RANGE_FLOOR;
    if (room <= 0) {
      return new int[] {0, -1};
    }
    int from = V6_RANGE_FLOOR + random.nextInt(room);
    return new int[] {from, from + V6_PORTS - 1};
  }

  /** The session's IPv4 loopback address. */
  public InetAddress v4() {
    return v4;
  }

  /** Whether relays to an app on {@code ::1} only can be told by their source port. */
  boolean hasV6Range() {
    return ports6To >= ports6From;
  }

  /** The next {@code [::1]:port} of the range to bind a relay to (round robin); null without a range. */
  InetSocketAddress nextV6Source() {
    if (!hasV6Range()) {
      return null;
    }
    int span = ports6To - ports6From + 1;
    int port = ports6From + Math.floorMod(nextV6.getAndIncrement() - ports6From, span);
    return new InetSocketAddress(address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), port);
  }

  /** How many ports the IPv6 range has (the bind attempts worth making). */
  int v6RangeSize() {
    return hasV6Range() ? ports6To - ports6From + 1 : 0;
  }

  /** The session file's keys ({@code incoming.relay.address}, {@code incoming.relay.ports6}). */
  public void addTo(Properties session) {
    session.setProperty("incoming.relay.address", v4.getHostAddress());
    session.setProperty("incoming.relay.ports6", hasV6Range() ? ports6From + "-" + ports6To : "");
  }

  @Override
  public String toString() {
    return v4.getHostAddress() + (hasV6Range() ? " and [::1]:" + ports6From + "-" + ports6To : "");
  }

  /** {@code 0100007F}: how /proc/net/tcp{,6} write an IPv4 address (little-endian hex). */
  static String procHex(byte[] v4) {
    return String.format(Locale.ROOT, "%02X%02X%02X%02X", v4[3], v4[2], v4[1], v4[0]);
  }

  private static boolean bindable(InetAddress a) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(a, 0));
      return true;
    } catch (IOException e) {
      logger.debug("cannot bind {}: {}", a, e.toString());
      return false;
    }
  }

  /**
   * Not {@code Files.readString}: for a file that reports size 0 it starts with a one-byte read, and
   * a sysctl file ({@code ip_local_port_range}) answers nothing at a non-zero offset, so it read
   * "3" of "32768 60999": no IPv6 range, and an app on {@code ::1} only was never reached.
   */
  private static String read(Path file) {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static InetAddress address(byte[] b) {
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // 4 or 16 bytes are always valid
    }
  }

  /** For tests: a fixed IPv4 address, no IPv6 range. */
  static RelayAddresses of(Inet4Address v4) {
    return new RelayAddresses(v4, 0, -1);
  }
}
