package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * {@code EchoServersApp TCP_PORT UDP_PORT}: a TCP echo (each connection until EOF) and a UDP echo (each datagram back
 * to its sender), java.base only, so that it runs on the agent image's jlinked runtime inside a target container of
 * the container e2e tests. Prints {@code echo.listening TCP UDP} once both listen.
 */
public final class EchoServersApp {
  private EchoServersApp() {}

  public static void main(String[] args) throws IOException {
    ServerSocket tcp = new ServerSocket();
    tcp.setReuseAddress(true);
    tcp.bind(new InetSocketAddress(Integer.parseInt(args[0])));
    DatagramSocket udp = new DatagramSocket(Integer.parseInt(args[1]));
    Thread u = new Thread(() -> {
      byte[] buf = new byte[65536];
      while (true) {
        try {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          udp.receive(p);
          udp.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
        } catch (IOException e) {
          return;
        }
      }
    }, "udp-echo");
    u.start();
    System.out.println("echo.listening " + args[0] + " " + args[1]);
    System.out.flush();
    while (true) {
      Socket s = tcp.accept();
      Thread t = new Thread(() -> {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          in.transferTo(out);
        } catch (IOException e) {
          // peer gone
        }
      }, "tcp-echo");
      t.setDaemon(true);
      t.start();
    }
  }
}
