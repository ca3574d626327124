package dev.mirrord.jvm.e2e.apps;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;

/**
 * {@code RawShaHttpServerApp PORT NAME [MAX_SECONDS [quiet]]}: the pod's own server for the HTTP-filter tests, a plain
 * {@code ServerSocket} that proves what reached it byte for byte. Keep-alive HTTP/1.1; every request (head and body
 * exactly as received: {@code Content-Length} or chunked framing) is hashed, and the answer is {@code hello from NAME:
 * METHOD PATH\n} with {@code X-Raw-Sha256} (the whole request's bytes) and {@code X-Raw-Length}. A first line that
 * is not HTTP is answered {@code echo: LINE\n} and the connection closed (the non-HTTP client of the tests); a head
 * line without a colon gets {@code 400} and a close. Prints {@link #READY_PREFIX}PORT, and per request {@code raw-http.req
 * METHOD PATH RAW_LENGTH} unless quiet.
 */
public final class RawShaHttpServerApp {
  public static final String READY_PREFIX = "raw-http.listening ";
  public static final String REQUEST_PREFIX = "raw-http.req ";

  private RawShaHttpServerApp() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 600;
    boolean quiet = args.length > 3 && args[3].equals("quiet");
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(port), 512);
    out.println(READY_PREFIX + port);
    Thread stopper = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      System.exit(1);
    });
    stopper.setDaemon(true);
    stopper.start();
    while (true) {
      Socket s = server.accept();
      Thread t = new Thread(() -> serve(s, name, quiet ? null : out), "raw-http");
      t.setDaemon(true);
      t.start();
    }
  }

  private static void serve(Socket s, String name, PrintStream log) {
    try (s) {
      s.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
      OutputStream out = s.getOutputStream();
      while (true) {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        String first = line(in, raw);
        while (first != null && first.isEmpty()) {
          first = line(in, raw); // empty lines before a request are allowed
        }
        if (first == null) {
          return;
        }
        String[] parts = first.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
          out.write(("echo: " + first + "\n").getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          return;
        }
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (String h = line(in, raw); h != null && !h.isEmpty(); h = line(in, raw)) {
          int colon = h.indexOf(':');
          if (colon <= 0) {
            out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return;
          }
          String key = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
          String value = h.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
          if (key.equals("content-length")) {
            length = Long.parseLong(value);
          } else if (key.equals("transfer-encoding") && value.contains("chunked")) {
            chunked = true;
          } else if (key.equals("connection") && value.contains("close")) {
            close = true;
          }
        }
        MessageDigest sha = ShaHttpServerApp.sha256();
        sha.update(raw.toByteArray());
        long total = raw.size();
        if (chunked) {
          while (true) {
            ByteArrayOutputStream chunk = new ByteArrayOutputStream();
            String size = line(in, chunk);
            long n = Long.parseLong(size.split(";")[0].trim(), 16);
            if (n == 0) {
              for (String t = line(in, chunk); t != null && !t.isEmpty(); t = line(in, chunk)) {
                // trailers
              }
            } else {
              chunk.write(in.readNBytes((int) n + 2));
            }
            sha.update(chunk.toByteArray());
            total += chunk.size();
            if (n == 0) {
              break;
            }
          }
        } else if (length > 0) {
          byte[] buf = new byte[64 * 1024];
          long left = length;
          while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
              return;
            }
            sha.update(buf, 0, r);
            left -= r;
            total += r;
          }
        }
        String hex = HexFormat.of().formatHex(sha.digest());
        if (log != null) {
          log.println(REQUEST_PREFIX + parts[0] + " " + parts[1] + " " + total);
        }
        byte[] body = ("hello from " + name + ": " + parts[0] + " " + parts[1] + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Raw-Sha256: " + hex + "\r\nX-Raw-Length: " + total
            + "\r\nContent-Length: " + body.length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (!parts[0].equals("HEAD")) {
          out.write(body);
        }
        out.flush();
        if (close) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      // the client went away
    }
  }

  /** One line without its CRLF (its bytes, CRLF included, also go to {@code raw}); null at EOF. */
  private static String line(InputStream in, ByteArrayOutputStream raw) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      raw.write(c);
      if (c == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }
}
