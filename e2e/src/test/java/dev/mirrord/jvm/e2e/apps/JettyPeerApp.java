package dev.mirrord.jvm.e2e.apps;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * {@code JettyPeerApp PORT ADDRESS NAME}: a Jetty 12 server (its own NIO connector, what Spring Boot's Jetty starter
 * and Dropwizard run), answering as {@link TomcatPeerApp} does from {@code Request.getRemoteAddr/Port}. Runs until
 * killed.
 */
public final class JettyPeerApp {
  private JettyPeerApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String name = args[2];
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(args[1]);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        String line = StackApps.answer(name, Request.getRemoteAddr(request), Request.getRemotePort(request),
            request.getHttpURI().getPathQuery());
        response.getHeaders().put("Content-Type", "text/plain");
        response.write(true, ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
      }
    });
    server.start();
    System.out.println(StackApps.READY_PREFIX + "jetty " + port);
    server.join();
  }
}
