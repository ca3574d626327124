package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code HttpLoadClient key=value...}: a bounded HTTP/1.1 load generator with checksummed random bodies, run inside
 * the lab's client namespace. Keys (defaults in brackets):
 *
 * <ul>
 *   <li>{@code host} [198.18.0.10], {@code port} [8080];
 *   <li>{@code connections} [4]: keep-alive connections, one thread each; request {@code j} goes on connection {@code
 *       j % connections};
 *   <li>{@code requests} [100], {@code minBody} [0], {@code maxBody} [1048576]: each request is {@code POST
 *       /load/<j>} with a body of uniformly random size and random bytes, both from {@code seed} [1] and {@code j};
 *   <li>{@code expect} [pod]: the answer must be exactly {@code hello from <expect>: POST /load/<j>}; with {@code
 *       verifySha} [true] its {@code X-Body-Sha256}/{@code X-Body-Length} must match what was sent (the server read
 *       every byte);
 *   <li>{@code retry} [true]: on an I/O error (reset, closed connection) reconnect and send the request once more, as
 *       real clients do; {@code deadline} [60] seconds for the whole run: requests not done by then count as failed;
 *   <li>{@code printSent} [false]: print {@code sent <j> <length> <sha256>} for every answered request;
 *       {@code progressEvery} [0]: print {@code progress <n>} every n answered requests;
 *   <li>{@code pauseMillis} [0]: pause between two requests of a connection (a paced load instead of a flood).
 * </ul>
 *
 * Always ends with {@code summary requests=N ok=.. bad=.. failed=.. retries=.. connects=.. bytes=.. millis=..};
 * exits 0 only when every request was answered as expected.
 */
public final class HttpLoadClient {
  public static final String SUMMARY_PREFIX = "summary ";
  private static final int MAX_PROBLEM_LINES = 50;

  private final String host;
  private final int port;
  private final int connections;
  private final int requests;
  private final int minBody;
  private final int maxBody;
  private final long seed;
  private final String expect;
  private final boolean verifySha;
  private final boolean retry;
  private final long deadlineNanos;
  private final boolean printSent;
  private final int progressEvery;
  private final long pauseMillis;
  private final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);

  private final AtomicInteger ok = new AtomicInteger();
  private final AtomicInteger bad = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicInteger connects = new AtomicInteger();
  private final AtomicInteger problems = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();

  private HttpLoadClient(Map<String, String> a) {
    host = a.getOrDefault("host", "198.18.0.10");
    port = Integer.parseInt(a.getOrDefault("port", "8080"));
    connections = Integer.parseInt(a.getOrDefault("connections", "4"));
    requests = Integer.parseInt(a.getOrDefault("requests", "100"));
    minBody = Integer.parseInt(a.getOrDefault("minBody", "0"));
    maxBody = Integer.parseInt(a.getOrDefault("maxBody", "1048576"));
    seed = Long.parseLong(a.getOrDefault("seed", "1"));
    expect = a.getOrDefault("expect", "pod");
    verifySha = Boolean.parseBoolean(a.getOrDefault("verifySha", "true"));
    retry = Boolean.parseBoolean(a.getOrDefault("retry", "true"));
    deadlineNanos = System.nanoTime() + Long.parseLong(a.getOrDefault("deadline", "60")) * 1_000_000_000L;
    printSent = Boolean.parseBoolean(a.getOrDefault("printSent", "false"));
    progressEvery = Integer.parseInt(a.getOrDefault("progressEvery", "0"));
    pauseMillis = Long.parseLong(a.getOrDefault("pauseMillis", "0"));
  }

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        System.err.println("usage: HttpLoadClient key=value... (see the class comment)");
        System.exit(2);
      }
      a.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    HttpLoadClient client = new HttpLoadClient(a);
    System.exit(client.run() ? 0 : 1);
  }

  private boolean run() throws InterruptedException {
    long t0 = System.nanoTime();
    Thread[] threads = new Thread[connections];
    for (int i = 0; i < connections; i++) {
      int worker = i;
      threads[i] = new Thread(() -> work(worker), "load-" + i);
      threads[i].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    synchronized (out) {
      out.println(SUMMARY_PREFIX + "requests=" + requests + " ok=" + ok + " bad=" + bad + " failed=" + failed
          + " retries=" + retries + " connects=" + connects + " bytes=" + bytes + " millis=" + millis);
      out.flush();
    }
    return ok.get() == requests;
  }

  /** Body length and bytes of request {@code j}: a pure function of (seed, j). */
  private int fillBody(int j, byte[] buf) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + j);
    int length = minBody + r.nextInt(maxBody - minBody + 1);
    for (int i = 0; i < length; i += 8) {
      long v = r.nextLong();
      for (int k = 0; k < 8 && i + k < length; k++) {
        buf[i + k] = (byte) (v >>> (8 * k));
      }
    }
    return length;
  }

  private void work(int worker) {
    byte[] buf = new byte[maxBody];
    MessageDigest sha = ShaHttpServerApp.sha256();
    MiniHttp conn = null;
    try {
      for (int j = worker; j < requests; j += connections) {
        if (System.nanoTime() > deadlineNanos) {
          int left = (requests - 1 - j) / connections + 1;
          failed.addAndGet(left);
          problem("fail " + j + " deadline: " + left + " requests of connection " + worker + " not sent");
          return;
        }
        if (pauseMillis > 0 && j >= connections) {
          try {
            Thread.sleep(pauseMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        int length = fillBody(j, buf);
        sha.update(buf, 0, length);
        String hex = HexFormat.of().formatHex(sha.digest());
        String path = "/load/" + j;
        for (int attempt = 1; ; attempt++) {
          try {
            if (conn == null) {
              conn = new MiniHttp(host, port, 5_000, 30_000);
              connects.incrementAndGet();
            }
            MiniHttp.Response r = conn.exchange("POST", path, buf, length);
            String problem = check(r, path, length, hex);
            if (problem == null) {
              bytes.addAndGet(length);
              int n = ok.incrementAndGet();
              if (printSent || (progressEvery > 0 && n % progressEvery == 0)) {
                synchronized (out) {
                  if (printSent) {
                    out.println("sent " + j + " " + length + " " + hex);
                  }
                  if (progressEvery > 0 && n % progressEvery == 0) {
                    out.println("progress " + n);
                    out.flush();
                  }
                }
              }
            } else {
              bad.incrementAndGet();
              problem("bad " + j + " " + problem);
            }
            if (r.closes()) {
              conn.close();
              conn = null;
            }
            break;
          } catch (IOException | RuntimeException e) {
            if (conn != null) {
              conn.close();
              conn = null;
            }
            if (retry && attempt == 1) {
              retries.incrementAndGet();
              problem("retry " + j + " " + e);
              continue;
            }
            failed.incrementAndGet();
            problem("fail " + j + " " + e);
            break;
          }
        }
      }
    } finally {
      if (conn != null) {
        conn.close();
      }
    }
  }

  private String check(MiniHttp.Response r, String path, int length, String hex) {
    String want = "hello from " + expect + ": POST " + path + "\n";
    if (r.status() != 200) {
      return "status " + r.status();
    }
    if (!r.bodyText().equals(want)) {
      return "answer [" + r.bodyText().strip() + "], want [" + want.strip() + "]";
    }
    if (verifySha) {
      String gotSha = r.headers().get("x-body-sha256");
      String gotLength = r.headers().get("x-body-length");
      if (!hex.equals(gotSha) || !Integer.toString(length).equals(gotLength)) {
        return "body checksum: sent " + length + " bytes sha " + hex + ", server read " + gotLength + " bytes sha "
            + gotSha;
      }
    }
    return null;
  }

  private void problem(String line) {
    if (problems.incrementAndGet() <= MAX_PROBLEM_LINES) {
      synchronized (out) {
        out.println(line);
        out.flush();
      }
    }
  }
}
