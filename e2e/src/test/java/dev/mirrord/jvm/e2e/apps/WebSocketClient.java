package dev.mirrord.jvm.e2e.apps;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code WebSocketClient URI COUNT [HEADER_NAME HEADER_VALUE]}: opens one WebSocket (JDK {@code HttpClient}), sends
 * {@code m1…mCOUNT} one at a time and prints each answer as {@code ws <answer>}; exits 0 after COUNT answers.
 */
public final class WebSocketClient {
  private WebSocketClient() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    LinkedBlockingQueue<String> answers = new LinkedBlockingQueue<>();
    WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
    if (args.length > 3) {
      b.header(args[2], args[3]);
    }
    WebSocket ws = b.buildAsync(URI.create(args[0]), new WebSocket.Listener() {
      private final StringBuilder text = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
          answers.add(text.toString());
          text.setLength(0);
        }
        webSocket.request(1);
        return CompletableFuture.completedFuture(null);
      }
    }).get(10, TimeUnit.SECONDS);
    int count = Integer.parseInt(args[1]);
    for (int i = 1; i <= count; i++) {
      ws.sendText("m" + i, true).get(10, TimeUnit.SECONDS);
      String a = answers.poll(10, TimeUnit.SECONDS);
      if (a == null) {
        out.println("ws timeout");
        System.exit(1);
      }
      out.println("ws " + a);
    }
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    System.exit(0);
  }
}
