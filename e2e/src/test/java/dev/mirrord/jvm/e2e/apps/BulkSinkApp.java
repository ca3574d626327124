package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code BulkSinkApp PORT [MAX_SECONDS]}: for bulk-throughput benchmarks. Each connection is read to EOF (the client's
 * half-close) and discarded; then the app answers {@code bytes=N millis=M\n} (M from the first byte to EOF) and
 * closes. Prints {@code bulk.listening PORT} once it listens; exits after MAX_SECONDS (default 600).
 */
public final class BulkSinkApp {
  public static final String READY_PREFIX = "bulk.listening ";

  private BulkSinkApp() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    long maxSeconds = args.length > 1 ? Long.parseLong(args[1]) : 600;
    Thread stopper = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      System.exit(1);
    }, "bulk-max-lifetime");
    stopper.setDaemon(true);
    stopper.start();
    try (ServerSocket server = new ServerSocket()) {
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(port), 64);
      System.out.println(READY_PREFIX + port);
      System.out.flush();
      while (true) {
        Socket s = server.accept();
        Thread t = new Thread(() -> drain(s), "bulk-conn");
        t.setDaemon(true);
        t.start();
      }
    }
  }

  private static void drain(Socket s) {
    try (s) {
      s.setReceiveBufferSize(4 * 1024 * 1024);
      InputStream in = s.getInputStream();
      byte[] buf = new byte[256 * 1024];
      long total = 0;
      long first = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (total == 0 && n > 0) {
          first = System.nanoTime();
        }
        total += n;
      }
      long millis = first == 0 ? 0 : (System.nanoTime() - first) / 1_000_000;
      OutputStream out = s.getOutputStream();
      out.write(("bytes=" + total + " millis=" + millis + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      System.out.println("bulk.done bytes=" + total + " millis=" + millis);
      System.out.flush();
    } catch (IOException e) {
      System.out.println("bulk.error " + e);
    }
  }
}
