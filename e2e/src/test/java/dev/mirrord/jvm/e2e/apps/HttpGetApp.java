package dev.mirrord.jvm.e2e.apps;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code HttpGetApp URL}: one GET (connect timeout 3 s, whole request 10 s); prints {@code status=<code>} and then
 * the body. Exit 0 on any HTTP response, 1 on an I/O failure (printed as {@code error=<exception>}).
 */
public final class HttpGetApp {
  private HttpGetApp() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 1) {
      System.err.println("usage: HttpGetApp URL");
      System.exit(2);
    }
    // No try-with-resources: HttpClient is AutoCloseable only since JDK 21, and the apps are compiled for 17.
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(args[0])).timeout(Duration.ofSeconds(10)).GET().build();
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      System.out.println("status=" + response.statusCode());
      System.out.print(response.body());
      System.out.flush();
    } catch (java.io.IOException e) {
      System.out.println("error=" + e);
      System.exit(1);
    }
  }
}
