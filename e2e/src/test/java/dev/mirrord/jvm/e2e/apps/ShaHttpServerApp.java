package dev.mirrord.jvm.e2e.apps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code ShaHttpServerApp PORT NAME [MAX_SECONDS [quiet]]}: a JDK {@code HttpServer} (keep-alive, any method, any path) that
 * answers every request with {@code hello from NAME: METHOD PATH\n} and the headers {@code X-Body-Sha256} and {@code
 * X-Body-Length} of the request body it read, and prints one line per request:
 *
 * <pre>
 *   sha-http.req METHOD PATH LENGTH SHA256HEX PEER_ADDRESS
 * </pre>
 *
 * Tests run it as the user's app under {@code mirrord exec} (NAME {@code local}: the lines prove what arrived,
 * byte-for-byte) and as the pod's keep-alive server in the pod namespace (NAME {@code pod}; the lab's socat server
 * closes every connection). Prints {@link #READY_PREFIX}{@code PORT} once it listens; exits after MAX_SECONDS
 * (default 600) so that it never outlives a broken test for long. With {@code quiet} (benchmarks) it prints no
 * per-request line.
 */
public final class ShaHttpServerApp {
  public static final String READY_PREFIX = "sha-http.listening ";
  /** Prefix of the per-request lines. */
  public static final String REQUEST_PREFIX = "sha-http.req ";

  private ShaHttpServerApp() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: ShaHttpServerApp PORT NAME [MAX_SECONDS [quiet]]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 600;
    boolean quiet = args.length > 3 && args[3].equals("quiet");
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 512);
    ExecutorService workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "sha-http-worker");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(workers);
    server.createContext("/", exchange -> handle(exchange, name, quiet ? null : out));
    server.start();
    out.println(READY_PREFIX + port);
    Thread stopper = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      out.println("sha-http.timeout");
      System.exit(1);
    }, "sha-http-max-lifetime");
    stopper.setDaemon(true);
    stopper.start();
  }

  private static void handle(HttpExchange exchange, String name, PrintStream out) throws IOException {
    // Not try-with-resources: HttpExchange is AutoCloseable only since JDK 18, and the apps are compiled for 17.
    try {
      MessageDigest sha = sha256();
      long length = 0;
      byte[] buf = new byte[64 * 1024];
      try (InputStream in = exchange.getRequestBody()) {
        int n;
        while ((n = in.read(buf)) > 0) {
          sha.update(buf, 0, n);
          length += n;
        }
      }
      String hex = HexFormat.of().formatHex(sha.digest());
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getRawPath();
      InetSocketAddress peer = exchange.getRemoteAddress();
      if (out != null) {
        out.println(REQUEST_PREFIX + method + " " + path + " " + length + " " + hex + " "
            + (peer == null ? "?" : peer.getAddress().getHostAddress()));
      }
      if (method.equals("GET") && path.startsWith(BYTES_PATH)) {
        sendBytes(exchange, Long.parseLong(path.substring(BYTES_PATH.length())));
        return;
      }
      byte[] body = ("hello from " + name + ": " + method + " " + path + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.getResponseHeaders().set("X-Body-Sha256", hex);
      exchange.getResponseHeaders().set("X-Body-Length", Long.toString(length));
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream os = exchange.getResponseBody()) {
        os.write(body);
      }
    } finally {
      exchange.close();
    }
  }

  /** {@code GET /bytes/N}: N bytes of a fixed pattern, their SHA-256 in {@code X-Out-Sha256} (downloads). */
  public static final String BYTES_PATH = "/bytes/";

  private static void sendBytes(HttpExchange exchange, long n) throws IOException {
    byte[] block = new byte[64 * 1024];
    for (int i = 0; i < block.length; i++) {
      block[i] = (byte) (i * 31 % 251);
    }
    MessageDigest sha = sha256();
    for (long left = n; left > 0; left -= block.length) {
      sha.update(block, 0, (int) Math.min(block.length, left));
    }
    exchange.getResponseHeaders().set("X-Out-Sha256", HexFormat.of().formatHex(sha.digest()));
    exchange.sendResponseHeaders(200, n);
    try (OutputStream os = exchange.getResponseBody()) {
      for (long left = n; left > 0; left -= block.length) {
        os.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
