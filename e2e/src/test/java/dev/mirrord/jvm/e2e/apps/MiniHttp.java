package dev.mirrord.jvm.e2e.apps;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client connection over a plain socket, for the load clients: we need to control exactly which
 * requests share a keep-alive connection and what happens on a reset, which {@code java.net.http.HttpClient} hides.
 */
final class MiniHttp implements AutoCloseable {
  /** One parsed response: status, lower-cased headers, body. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }

    boolean closes() {
      return headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT).contains("close");
    }
  }

  private final String host;
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  MiniHttp(String host, int port, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
    this.host = host;
    this.socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
      socket.setSoTimeout(readTimeoutMillis);
      this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** Sends one request ({@code body} bytes [0, length)) and reads its response. */
  Response exchange(String method, String path, byte[] body, int length) throws IOException {
    StringBuilder head = new StringBuilder()
        .append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host.contains(":") ? "[" + host + "]" : host).append("\r\n");
    if (body != null) {
      head.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(length).append("\r\n");
    }
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
    if (body != null) {
      out.write(body, 0, length);
    }
    out.flush();
    return read();
  }

  /** Writes {@code raw} (one or more whole requests, as they are) and reads one response. */
  Response exchangeRaw(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
    return read();
  }

  /** Reads the next response (of a request written before). */
  Response readResponse() throws IOException {
    return read();
  }

  private Response read() throws IOException {
    String status = line();
    if (status == null) {
      throw new EOFException("connection closed before the response");
    }
    String[] parts = status.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("bad status line: " + status);
    }
    Map<String, String> headers = new HashMap<>();
    for (String h = line(); h != null && !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      if (colon > 0) {
        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
    }
    String cl = headers.get("content-length");
    if (cl == null) {
      throw new IOException("response without Content-Length: " + status);
    }
    byte[] body = in.readNBytes(Integer.parseInt(cl));
    if (body.length != Integer.parseInt(cl)) {
      throw new EOFException("connection closed in the response body");
    }
    return new Response(Integer.parseInt(parts[1]), headers, body);
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    if (sb.length() == 0) {
      return null;
    }
    throw new EOFException("connection closed in a header line");
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do
    }
  }
}
