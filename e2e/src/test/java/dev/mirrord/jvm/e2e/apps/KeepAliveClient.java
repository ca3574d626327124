package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;

/**
 * {@code KeepAliveClient HOST PORT INTERVAL_MS MAX_SECONDS}: a long-lived client like a service calling another one:
 * one keep-alive connection, a {@code GET /ka/<seq>} every INTERVAL_MS, and on a reset or closed connection one
 * reconnect and retry, as real HTTP clients do. Prints, with {@code System.currentTimeMillis()} as MILLIS:
 *
 * <pre>
 *   connect CONN MILLIS                    a new connection (CONN counts from 1)
 *   resp SEQ MILLIS CONN ANSWER            ANSWER is the answer's first line, e.g. "hello from pod: GET /ka/7"
 *   error SEQ MILLIS CONN EXCEPTION        the request failed on CONN; it is retried once on a new connection
 *   fail SEQ MILLIS EXCEPTION              the retry failed too
 * </pre>
 *
 * Exits 0 after MAX_SECONDS.
 */
public final class KeepAliveClient {
  private KeepAliveClient() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 4) {
      System.err.println("usage: KeepAliveClient HOST PORT INTERVAL_MS MAX_SECONDS");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long interval = Long.parseLong(args[2]);
    long deadline = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000_000L;
    MiniHttp conn = null;
    int connNo = 0;
    for (long seq = 1; System.nanoTime() < deadline; seq++) {
      String path = "/ka/" + seq;
      for (int attempt = 1; attempt <= 2; attempt++) {
        try {
          if (conn == null) {
            conn = new MiniHttp(host, port, 2_000, 3_000);
            connNo++;
            print("connect " + connNo + " " + System.currentTimeMillis());
          }
          MiniHttp.Response r = conn.exchange("GET", path, null, 0);
          print("resp " + seq + " " + System.currentTimeMillis() + " " + connNo + " " + r.bodyText().strip());
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
          if (attempt == 1) {
            print("error " + seq + " " + System.currentTimeMillis() + " " + connNo + " " + e);
          } else {
            print("fail " + seq + " " + System.currentTimeMillis() + " " + e);
          }
        }
      }
      Thread.sleep(interval);
    }
    if (conn != null) {
      conn.close();
    }
  }

  private static void print(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
