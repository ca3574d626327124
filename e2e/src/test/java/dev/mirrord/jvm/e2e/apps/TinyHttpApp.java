package dev.mirrord.jvm.e2e.apps;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * {@code TinyHttpApp PORT NAME [MAX_SECONDS]}: the smallest HTTP/1.1 server we could write on a plain {@code
 * ServerSocket} (thread per connection, keep-alive, bodies by Content-Length), so that a JVM under {@code mirrord
 * exec} starts as fast as possible: the steal kill loops start one per iteration. Answers {@code hello from NAME:
 * METHOD PATH\n}; prints {@code tiny.listening PORT} once it listens; exits after MAX_SECONDS (default 300).
 */
public final class TinyHttpApp {
  public static final String READY_PREFIX = "tiny.listening ";

  private TinyHttpApp() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: TinyHttpApp PORT NAME [MAX_SECONDS]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 300;
    long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(port), 128);
    server.setSoTimeout(1000);
    System.out.println(READY_PREFIX + port);
    System.out.flush();
    while (System.nanoTime() < deadline) {
      Socket s;
      try {
        s = server.accept();
      } catch (java.net.SocketTimeoutException e) {
        continue;
      }
      Thread t = new Thread(() -> serve(s, name), "tiny-conn");
      t.setDaemon(true);
      t.start();
    }
    System.out.println("tiny.timeout");
    System.exit(1);
  }

  private static void serve(Socket s, String name) {
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (true) {
        String requestLine = line(in);
        if (requestLine == null) {
          return;
        }
        long length = 0;
        boolean close = false;
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
          String lower = h.toLowerCase(Locale.ROOT);
          if (lower.startsWith("content-length:")) {
            length = Long.parseLong(h.substring(15).trim());
          } else if (lower.startsWith("connection:") && lower.contains("close")) {
            close = true;
          }
        }
        in.skipNBytes(length);
        String[] parts = requestLine.split(" ");
        String body = "hello from " + name + ": " + parts[0] + " " + (parts.length > 1 ? parts[1] : "?") + "\n";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + bytes.length
            + (close ? "\r\nConnection: close" : "") + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        if (close) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The client went away; nothing to report.
    }
  }

  /** One CRLF-terminated line without the terminator; null at EOF before any byte. */
  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }
}
