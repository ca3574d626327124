package dev.mirrord.jvm.layer.testapp;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Connects to each {@code kind:ip:port} argument (kind: socket, channel, async, udp, dchannel, dns: an unconnected datagram),
 * writes a line, reads the echo and prints {@code <arg>=<echo> peer=<reported peer>}, or {@code
 * <arg>=<ExceptionClass>: <message>}; {@code pause:-:<millis>} sleeps; then {@code done=true}.
 */
public final class ConnectProbeApp {
  private ConnectProbeApp() {}

  public static void main(String[] args) throws Exception {
    System.out.println("mirrord.layer.connected=" + System.getProperty("mirrord.layer.connected"));
    for (String arg : args) {
      String[] p = arg.split(":");
      if (p[0].equals("pause")) {
        Thread.sleep(Long.parseLong(p[2]));
        continue;
      }
      InetSocketAddress to = new InetSocketAddress(p[1], Integer.parseInt(p[2]));
      try {
        System.out.println(arg + "=" + probe(p[0], to));
      } catch (Exception e) {
        Throwable t = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
        System.out.println(arg + "=" + t.getClass().getName() + ": " + t.getMessage());
      }
    }
    System.out.println("done=true");
  }

  private static String probe(String kind, InetSocketAddress to) throws Exception {
    byte[] ping = "ping\n".getBytes(StandardCharsets.US_ASCII);
    switch (kind) {
      case "socket": {
        try (Socket s = new Socket()) {
          s.connect(to, 2000);
          s.setSoTimeout(5000);
          s.getOutputStream().write(ping);
          byte[] b = s.getInputStream().readNBytes(5);
          return text(b, b.length) + " peer=" + s.getRemoteSocketAddress() + " port=" + s.getPort();
        }
      }
      case "channel": {
        try (SocketChannel c = SocketChannel.open()) {
          c.configureBlocking(false);
          c.connect(to);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          while (!c.finishConnect()) {
            if (System.nanoTime() > deadline) {
              throw new IOException("finishConnect timed out");
            }
            Thread.sleep(5);
          }
          c.configureBlocking(true);
          c.write(ByteBuffer.wrap(ping));
          ByteBuffer b = ByteBuffer.allocate(5);
          while (b.hasRemaining() && c.read(b) >= 0) {}
          return text(b.array(), b.position()) + " peer=" + c.getRemoteAddress();
        }
      }
      case "async": {
        try (AsynchronousSocketChannel c = AsynchronousSocketChannel.open()) {
          java.util.concurrent.Future<Void> connected;
          try {
            connected = c.connect(to);
          } catch (Exception e) { // also a checked exception thrown past the signature
            throw new IllegalStateException("connect() itself threw " + e, e); // not the JDK's way
          }
          connected.get(5, TimeUnit.SECONDS);
          c.write(ByteBuffer.wrap(ping)).get(5, TimeUnit.SECONDS);
          ByteBuffer b = ByteBuffer.allocate(5);
          while (b.hasRemaining() && c.read(b).get(5, TimeUnit.SECONDS) >= 0) {}
          return text(b.array(), b.position()) + " peer=" + c.getRemoteAddress();
        }
      }
      case "udp": {
        try (DatagramSocket d = new DatagramSocket()) {
          d.setSoTimeout(5000);
          d.connect(to);
          d.send(new DatagramPacket(ping, ping.length, to));
          DatagramPacket in = new DatagramPacket(new byte[64], 64);
          d.receive(in);
          return text(in.getData(), in.getLength()) + " peer=" + d.getRemoteSocketAddress()
              + " from=" + in.getSocketAddress();
        }
      }
      case "dchannel": {
        try (DatagramChannel d = DatagramChannel.open()) {
          d.connect(to);
          d.write(ByteBuffer.wrap(ping));
          ByteBuffer b = ByteBuffer.allocate(64);
          d.socket().setSoTimeout(5000);
          d.read(b);
          return text(b.array(), b.position()) + " peer=" + d.getRemoteAddress();
        }
      }
      case "dns": {
        try (DatagramChannel d = DatagramChannel.open()) {
          d.send(ByteBuffer.wrap(ping), to); // unconnected, as a resolver does
          d.configureBlocking(false);
          ByteBuffer b = ByteBuffer.allocate(64);
          java.net.SocketAddress from = null;
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          while (from == null && System.nanoTime() < deadline) {
            from = d.receive(b);
            Thread.sleep(5);
          }
          return from == null ? "no answer" : text(b.array(), b.position()) + " from=" + from;
        }
      }
      default:
        throw new IllegalArgumentException(kind);
    }
  }

  private static String text(byte[] b, int n) {
    return new String(b, 0, n, StandardCharsets.US_ASCII).trim();
  }
}
