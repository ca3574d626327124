package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code FilterMixClient key=value...}: keep-alive connections that mix requests for several developers and for
 * nobody, and check who answered each and that it got exactly what was sent. Keys (defaults in brackets):
 * {@code host} [198.18.0.10], {@code port} [8084], {@code connections} [4], {@code requests} [300], {@code maxBody}
 * [16384], {@code seed} [1], {@code devs} [alice,bob]: request {@code j} carries {@code X-Dev: <dev>} for a random
 * one of them, or no such header (a third of them, who "none"); {@code route} [none=pod] maps a who to the name
 * that must answer (default: each dev answers its own, none goes to {@code pod}), e.g. {@code route=alice=pod,none=pod}
 * after alice's session ended; {@code deadline} [120] seconds.
 *
 * <p>Every request is {@code POST /mix/<j>} with mixed-case header names and a random body. An answer from a dev's app
 * ({@code ShaHttpServerApp}) must carry the body's {@code X-Body-Sha256}; an answer from the pod ({@code
 * RawShaHttpServerApp}) must carry {@code X-Raw-Sha256} of the exact bytes the client wrote: the pod got the request
 * byte for byte. Ends with {@code summary requests=N ok=.. bad=.. failed=.. <name>=<count>...}; exit 0 only if all ok.
 */
public final class FilterMixClient {
  public static final String SUMMARY_PREFIX = "summary ";

  private final Map<String, String> a;
  private final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
  private final AtomicInteger ok = new AtomicInteger();
  private final AtomicInteger bad = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final Map<String, AtomicInteger> answeredBy = new ConcurrentHashMap<>();

  private FilterMixClient(Map<String, String> a) {
    this.a = a;
  }

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      a.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    System.exit(new FilterMixClient(a).run() ? 0 : 1);
  }

  private String get(String key, String dflt) {
    return a.getOrDefault(key, dflt);
  }

  private boolean run() throws InterruptedException {
    int connections = Integer.parseInt(get("connections", "4"));
    int requests = Integer.parseInt(get("requests", "300"));
    long deadline = System.nanoTime() + Long.parseLong(get("deadline", "120")) * 1_000_000_000L;
    Thread[] threads = new Thread[connections];
    for (int i = 0; i < connections; i++) {
      int worker = i;
      threads[i] = new Thread(() -> work(worker, connections, requests, deadline));
      threads[i].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    StringBuilder sb = new StringBuilder(SUMMARY_PREFIX + "requests=" + requests + " ok=" + ok + " bad=" + bad
        + " failed=" + failed);
    new java.util.TreeMap<>(answeredBy).forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
    out.println(sb);
    return ok.get() == requests;
  }

  private void work(int worker, int connections, int requests, long deadline) {
    String host = get("host", "198.18.0.10");
    int port = Integer.parseInt(get("port", "8084"));
    int maxBody = Integer.parseInt(get("maxBody", "16384"));
    long seed = Long.parseLong(get("seed", "1"));
    String[] devs = get("devs", "alice,bob").split(",");
    Map<String, String> route = new HashMap<>();
    route.put("none", "pod");
    for (String d : devs) {
      route.put(d, d);
    }
    for (String r : get("route", "").split(",")) {
      if (r.contains("=")) {
        route.put(r.substring(0, r.indexOf('=')), r.substring(r.indexOf('=') + 1));
      }
    }
    MiniHttp conn = null;
    try {
      for (int j = worker; j < requests; j += connections) {
        if (System.nanoTime() > deadline) {
          failed.incrementAndGet();
          out.println("fail " + j + " deadline");
          continue;
        }
        SplittableRandom r = new SplittableRandom(seed * 31 + j);
        int pick = r.nextInt(devs.length + 1);
        String who = pick == devs.length ? "none" : devs[pick];
        byte[] body = new byte[r.nextInt(maxBody + 1)];
        for (int i = 0; i < body.length; i++) {
          body[i] = (byte) r.nextInt(256);
        }
        String path = "/mix/" + j;
        StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
            + "X-ReQuest-ID: " + j + "\r\n");
        if (!who.equals("none")) {
          head.append(j % 2 == 0 ? "X-Dev: " : "x-DEV:   ").append(who).append("\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] raw = new byte[h.length + body.length];
        System.arraycopy(h, 0, raw, 0, h.length);
        System.arraycopy(body, 0, raw, h.length, body.length);
        String expect = route.get(who);
        for (int attempt = 1; ; attempt++) {
          try {
            if (conn == null) {
              conn = new MiniHttp(host, port, 5_000, 30_000);
            }
            MiniHttp.Response resp = conn.exchangeRaw(raw);
            String problem = check(resp, expect, path, raw, body);
            if (problem == null) {
              ok.incrementAndGet();
              answeredBy.computeIfAbsent(expect, k -> new AtomicInteger()).incrementAndGet();
            } else {
              bad.incrementAndGet();
              out.println("bad " + j + " (" + who + ") " + problem);
            }
            if (resp.closes()) {
              conn.close();
              conn = null;
            }
            break;
          } catch (IOException e) {
            if (conn != null) {
              conn.close();
              conn = null;
            }
            if (attempt >= 2) {
              failed.incrementAndGet();
              out.println("fail " + j + " " + e);
              break;
            }
          }
        }
      }
    } finally {
      if (conn != null) {
        conn.close();
      }
    }
  }

  private static String check(MiniHttp.Response r, String expect, String path, byte[] raw, byte[] body) {
    String want = "hello from " + expect + ": POST " + path + "\n";
    if (r.status() != 200 || !r.bodyText().equals(want)) {
      return "status " + r.status() + " body '" + r.bodyText().strip() + "', expected '" + want.strip() + "'";
    }
    if (expect.equals("pod")) {
      String sha = hex(raw);
      return sha.equals(r.headers().get("x-raw-sha256")) ? null
          : "the pod got other bytes: x-raw-length " + r.headers().get("x-raw-length") + " of " + raw.length;
    }
    String sha = hex(body);
    return sha.equals(r.headers().get("x-body-sha256")) ? null : "the app got another body";
  }

  private static String hex(byte[] b) {
    MessageDigest sha = ShaHttpServerApp.sha256();
    return HexFormat.of().formatHex(sha.digest(b));
  }
}
