import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;

/**
 * The app of scripts/demo.sh: an ordinary Java program that knows nothing about mirrord. Run it as
 * {@code java demo/DemoApp.java [PORT]} (the source launcher is a JVM, so under {@code mirrord exec} it gets the
 * layer). It prints what it sees of mirrord (system properties the layer sets, an environment variable imported from
 * the target) and, under mirrord, the answer of an outgoing call to {@code http://svc:8080/} by the cluster's
 * short name (resolved and connected from inside the pod), then serves HTTP on PORT (default 8080), answering {@code hello from your local JVM} and printing one
 * line per request it receives. Plain JDK 17+, no dependencies.
 */
public final class DemoApp {
  private DemoApp() {}

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
    say("running on java " + System.getProperty("java.version") + ", pid " + ProcessHandle.current().pid());
    say("mirrord.layer.connected = " + System.getProperty("mirrord.layer.connected", "(not set: no mirrord layer)"));
    say("mirrord.target.pid      = " + System.getProperty("mirrord.target.pid", "-"));
    say("mirrord.target.hostname = " + System.getProperty("mirrord.target.hostname", "-"));
    say("mirrord.target.netns    = " + System.getProperty("mirrord.target.netns", "-")
        + "   (this process itself runs in netns " + ownNetns() + ")");
    say("env POD_NAME            = " + System.getenv().getOrDefault("POD_NAME", "-") + "   (imported from the target)");
    if ("true".equals(System.getProperty("mirrord.layer.connected"))) {
      callService("http://svc:8080/from-local-app");
    }

    HttpServer server = HttpServer.create(new InetSocketAddress(port), 50);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", exchange -> {
      say("received " + exchange.getRequestMethod() + " " + exchange.getRequestURI()
          + " from " + exchange.getRemoteAddress().getAddress().getHostAddress());
      byte[] body = "hello from your local JVM\n".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    say("listening on port " + port);
  }

  /** An outgoing call by the cluster's short name: resolved and connected from inside the pod by mirrord. */
  private static void callService(String url) {
    try {
      java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
          .connectTimeout(java.time.Duration.ofSeconds(5)).build();
      java.net.http.HttpResponse<String> r = client.send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
              .timeout(java.time.Duration.ofSeconds(5)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      say("outgoing GET " + url + " -> " + r.statusCode() + " " + r.body().strip());
    } catch (IOException | InterruptedException | RuntimeException e) {
      say("outgoing GET " + url + " failed: " + e);
    }
  }

  private static void say(String line) {
    System.out.println("DemoApp: " + line);
    System.out.flush();
  }

  private static String ownNetns() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString().replaceAll("\\D", "");
    } catch (IOException | UnsupportedOperationException e) {
      return "?";
    }
  }
}
