package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.Security;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code OutgoingBenchApp [--connect N] [--bulk MIB] [--dns N] [--host NAME] [--max-seconds S]}: the client side of
 * bench/outgoing.sh (issue 6's benchmark), the same code run directly in the pod's namespace and under mirrord.
 * JDK only (bench/lib.sh starts it with the e2e test classes as its whole classpath). Prints {@code key=value} lines:
 *
 * <ul>
 *   <li>{@code --connect N}: {@code Socket.connect} to HOST:9000 (the lab's TCP echo), N times after N/10 warm-up
 *       connects; HOST is resolved once before. Only the connect is timed; then one byte is echoed (which paces the
 *       loop to the forking echo server) and the socket closed. {@code connect.n connect.errors connect.p50_us
 *       connect.p99_us connect.mean_us}.
 *   <li>{@code --bulk MIB}: one connection to HOST:9002 (the lab's sink), MIB MiB written in 256 KiB chunks, then a
 *       half-close; the sink answers the byte count, checked. First a 64 MiB warm-up connection. {@code bulk.bytes
 *       bulk.ms bulk.mibps} (ms from the first write to the sink's answer).
 *   <li>{@code --dns N}: {@code InetAddress.getByName} of cluster names (short and full, round robin), N times after
 *       N/10 warm-up lookups, with the JDK's positive and negative caches off (set before the first lookup). {@code
 *       dns.n dns.errors dns.p50_us dns.p99_us dns.mean_us}.
 * </ul>
 *
 * Every loop is bounded by its count and by {@code --max-seconds} (default 300) for the whole run: the app exits 3
 * when that runs out. Exit 0 when every operation succeeded, 1 otherwise.
 */
public final class OutgoingBenchApp {
  private static final String[] DNS_NAMES = {
    "svc", "postgres", "redis.default.svc.cluster.local", "pod.default.svc.cluster.local"
  };
  private static final int TIMEOUT_MS = 5000;

  private OutgoingBenchApp() {}

  public static void main(String[] args) throws Exception {
    // Before anything resolves a name: the JDK caches lookups (30 s, negative 10 s) from the first one on.
    Security.setProperty("networkaddress.cache.ttl", "0");
    Security.setProperty("networkaddress.cache.negative.ttl", "0");
    int connects = 0;
    int bulkMib = 0;
    int lookups = 0;
    String host = "svc";
    long maxSeconds = 300;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--connect" -> connects = Integer.parseInt(args[++i]);
        case "--bulk" -> bulkMib = Integer.parseInt(args[++i]);
        case "--dns" -> lookups = Integer.parseInt(args[++i]);
        case "--host" -> host = args[++i];
        case "--max-seconds" -> maxSeconds = Long.parseLong(args[++i]);
        default -> {
          System.err.println("OutgoingBenchApp: unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    watchdog(maxSeconds);
    boolean ok = true;
    if (connects > 0) {
      ok &= connect(host, connects);
    }
    if (bulkMib > 0) {
      ok &= bulk(host, 64, "bulk.warmup");
      ok &= bulk(host, bulkMib, "bulk");
    }
    if (lookups > 0) {
      ok &= dns(lookups);
    }
    System.out.flush();
    System.exit(ok ? 0 : 1);
  }

  private static boolean connect(String host, int n) throws UnknownHostException {
    InetSocketAddress echo = new InetSocketAddress(InetAddress.getByName(host), 9000);
    int warmup = Math.max(1, n / 10);
    long[] nanos = new long[n];
    int errors = 0;
    String firstError = null;
    for (int i = -warmup; i < n; i++) {
      try (Socket s = new Socket()) {
        long t0 = System.nanoTime();
        s.connect(echo, TIMEOUT_MS);
        long t = System.nanoTime() - t0;
        // One echo round trip (not measured): proves the flow, and paces the loop to the echo server (socat forks a
        // child per connection; connecting faster than it accepts overflows its backlog: 1 s SYN retransmits).
        s.setSoTimeout(TIMEOUT_MS);
        s.getOutputStream().write('x');
        if (s.getInputStream().read() != 'x') {
          throw new IOException("no echo");
        }
        if (i >= 0) {
          nanos[i] = t;
        }
      } catch (IOException e) {
        if (i >= 0) {
          errors++;
          nanos[i] = Long.MAX_VALUE;
        }
        firstError = firstError == null ? e.toString() : firstError;
        if (errors > 20) {
          break;
        }
      }
    }
    print("connect", n, errors, nanos, firstError);
    return errors == 0;
  }

  private static boolean bulk(String host, int mib, String key) {
    long total = (long) mib << 20;
    byte[] chunk = new byte[256 * 1024];
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, 9002), TIMEOUT_MS);
      s.setSoTimeout(120_000);
      s.setSendBufferSize(4 * 1024 * 1024);
      OutputStream out = s.getOutputStream();
      long t0 = System.nanoTime();
      for (long sent = 0; sent < total; sent += chunk.length) {
        out.write(chunk, 0, (int) Math.min(chunk.length, total - sent));
      }
      out.flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      String answer = new String(in.readNBytes(64), StandardCharsets.US_ASCII).strip();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      if (!answer.equals(Long.toString(total))) {
        System.out.println(key + ".error=sink counted [" + answer + "] of " + total);
        return false;
      }
      System.out.printf(Locale.ROOT, "%s.bytes=%d%n%s.ms=%d%n%s.mibps=%.0f%n", key, total, key, ms, key,
          mib / (Math.max(1, ms) / 1000.0));
      return true;
    } catch (IOException e) {
      System.out.println(key + ".error=" + e);
      return false;
    }
  }

  private static boolean dns(int n) {
    int warmup = Math.max(1, n / 10);
    long[] nanos = new long[n];
    int errors = 0;
    String firstError = null;
    for (int i = -warmup; i < n; i++) {
      String name = DNS_NAMES[Math.floorMod(i, DNS_NAMES.length)];
      try {
        long t0 = System.nanoTime();
        InetAddress.getByName(name);
        long t = System.nanoTime() - t0;
        if (i >= 0) {
          nanos[i] = t;
        }
      } catch (UnknownHostException e) {
        if (i >= 0) {
          errors++;
          nanos[i] = Long.MAX_VALUE;
        }
        firstError = firstError == null ? e.toString() : firstError;
        if (errors > 20) {
          break;
        }
      }
    }
    print("dns", n, errors, nanos, firstError);
    return errors == 0;
  }

  private static void print(String key, int n, int errors, long[] nanos, String firstError) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    long sum = 0;
    int counted = 0;
    for (long t : sorted) {
      if (t != Long.MAX_VALUE && t != 0) {
        sum += t;
        counted++;
      }
    }
    System.out.printf(Locale.ROOT, "%s.n=%d%n%s.errors=%d%n", key, n, key, errors);
    if (errors == 0) {
      System.out.printf(Locale.ROOT, "%s.p50_us=%d%n%s.p99_us=%d%n%s.mean_us=%d%n", key,
          sorted[(int) (n * 0.50)] / 1000, key, sorted[Math.min(n - 1, (int) (n * 0.99))] / 1000, key,
          counted == 0 ? 0 : sum / counted / 1000);
    } else {
      System.out.println(key + ".error=" + firstError);
    }
  }

  private static void watchdog(long maxSeconds) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
      } catch (InterruptedException e) {
        return;
      }
      System.out.println("error=gave up after " + maxSeconds + " s");
      System.out.flush();
      Runtime.getRuntime().halt(3);
    }, "bench-max-lifetime");
    t.setDaemon(true);
    t.start();
  }
}
