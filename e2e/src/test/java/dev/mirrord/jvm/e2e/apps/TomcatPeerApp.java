package dev.mirrord.jvm.e2e.apps;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * {@code TomcatPeerApp PORT ADDRESS NAME}: embedded Tomcat 11 (its NIO connector) with one servlet, as a Spring Boot
 * app would run it. Every request is answered {@code hello from NAME: peer=<getRemoteAddr()>:<getRemotePort()>
 * path=<path>} and printed as {@code stack.req <path> <remote address> <remote port>}; {@link StackApps#READY_PREFIX}
 * once it listens. Runs until killed.
 */
public final class TomcatPeerApp {
  private TomcatPeerApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String name = args[2];
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(Files.createTempDirectory("tomcat-peer").toString());
    Connector connector = new Connector("org.apache.coyote.http11.Http11NioProtocol");
    connector.setPort(port);
    connector.setProperty("address", args[1]);
    tomcat.setConnector(connector);
    Context ctx = tomcat.addContext("", null);
    Tomcat.addServlet(ctx, "peer", new HttpServlet() {
      @Override
      protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String line = StackApps.answer(name, req.getRemoteAddr(), req.getRemotePort(), req.getRequestURI());
        resp.setContentType("text/plain");
        resp.getOutputStream().write(line.getBytes(StandardCharsets.UTF_8));
      }
    });
    ctx.addServletMappingDecoded("/*", "peer");
    tomcat.start();
    System.out.println(StackApps.READY_PREFIX + "tomcat " + port);
    tomcat.getServer().await();
  }
}
