package sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code SvcClient URL}: one GET, printed as {@code sample.http=<body>}; {@code SvcClient --dry}: no request. Both
 * print {@code sample.layer=<mirrord.layer.connected>} and {@code sample.java.command=<the JVM's main>}.
 */
public final class SvcClient {
  private SvcClient() {}

  public static void main(String[] args) throws Exception {
    System.out.println("sample.layer=" + System.getProperty("mirrord.layer.connected"));
    String command = System.getProperty("sun.java.command", "");
    System.out.println("sample.java.command=" + command.split(" ")[0]);
    if (args.length == 1 && !args[0].equals("--dry")) {
      System.out.println("sample.http=" + get(args[0]));
    }
  }

  /** The body of a GET of {@code url} (3 s to connect, 10 s in all), trimmed. */
  public static String get(String url) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build();
    return client.send(request, HttpResponse.BodyHandlers.ofString()).body().trim();
  }
}
