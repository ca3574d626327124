package dev.mirrord.jvm.e2e.apps;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * {@code ContainerProbeApp SVC_NAME PORT}: what an app under {@code mirrord exec --target container/NAME} checks. Prints
 * {@code env POD_NAME=… APP_SECRET=…} (imported from the container), {@code dns ok <address of SVC_NAME>}, {@code tcp
 * ok <echo>} (TCP echo on SVC_NAME:9000), {@code udp ok <echo>} (UDP echo on SVC_NAME:9001) — or {@code <check> failed
 * <exception>} —, then serves HTTP on PORT ({@code hello from app: METHOD PATH}), printing {@code req METHOD PATH} per
 * request (mirrored ones too), and prints {@code app.listening PORT}. Each check is bounded by 5 s.
 */
public final class ContainerProbeApp {
  private ContainerProbeApp() {}

  public static void main(String[] args) throws Exception {
    String svc = args[0];
    int port = Integer.parseInt(args[1]);
    System.out.println("env POD_NAME=" + System.getenv("POD_NAME") + " APP_SECRET=" + System.getenv("APP_SECRET"));
    try {
      System.out.println("dns ok " + InetAddress.getByName(svc).getHostAddress());
    } catch (Exception e) {
      System.out.println("dns failed " + e);
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(svc, 9000), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write("ping-tcp".getBytes(StandardCharsets.UTF_8));
      out.flush();
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      System.out.println("tcp ok " + new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (Exception e) {
      System.out.println("tcp failed " + e);
    }
    try (DatagramSocket d = new DatagramSocket()) {
      d.setSoTimeout(5000);
      d.connect(new InetSocketAddress(svc, 9001));
      byte[] ping = "ping-udp".getBytes(StandardCharsets.UTF_8);
      d.send(new DatagramPacket(ping, ping.length));
      DatagramPacket p = new DatagramPacket(new byte[100], 100);
      d.receive(p);
      System.out.println("udp ok " + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
    } catch (Exception e) {
      System.out.println("udp failed " + e);
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext("/", x -> {
      System.out.println("req " + x.getRequestMethod() + " " + x.getRequestURI());
      System.out.flush();
      byte[] b = ("hello from app: " + x.getRequestMethod() + " " + x.getRequestURI() + "\n").getBytes(StandardCharsets.UTF_8);
      x.sendResponseHeaders(200, b.length);
      x.getResponseBody().write(b);
      x.close();
    });
    server.start();
    System.out.println("app.listening " + port);
    System.out.flush();
    Thread.sleep(600_000);
    System.exit(1);
  }
}
