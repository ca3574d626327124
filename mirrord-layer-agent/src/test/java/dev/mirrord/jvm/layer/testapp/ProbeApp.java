package dev.mirrord.jvm.layer.testapp;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;

/**
 * Prints what the layer published, binds server sockets, and exits.
 *
 * <p>Args: {@code <exit code|return> [fixed port]
 * [await-disconnect|await-disconnect-keep-running]}: after the loss, run on for 1 s or 10 s. {@code return} ends main
 * normally (the JVM must still exit: the layer's threads are daemons).
 */
public final class ProbeApp {
  private ProbeApp() {}

  public static void main(String[] args) throws Exception {
    String exit = args[0];
    int fixedPort = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    boolean keepRunning = args.length > 2 && args[2].equals("await-disconnect-keep-running");
    boolean awaitDisconnect = keepRunning || (args.length > 2 && args[2].equals("await-disconnect"));

    for (String key :
        new String[] {
          "mirrord.layer.connected",
          "mirrord.target.pid",
          "mirrord.target.netns",
          "mirrord.target.hostname",
          "mirrord.session.id"
        }) {
      System.out.println(key + "=" + System.getProperty(key));
    }
    try (ServerSocket ss = new ServerSocket(0)) {
      System.out.println("serverSocket.port=" + ss.getLocalPort());
    }
    try (ServerSocketChannel ch = ServerSocketChannel.open()) {
      ch.bind(new InetSocketAddress("127.0.0.1", 0));
      System.out.println("channel.port=" + ((InetSocketAddress) ch.getLocalAddress()).getPort());
    }
    if (fixedPort > 0) {
      try (ServerSocket ss = new ServerSocket()) {
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress("127.0.0.1", fixedPort));
        System.out.println("fixed.boundAt=" + System.currentTimeMillis());
        System.out.println("fixed.port=" + ss.getLocalPort());
      }
    }
    if (awaitDisconnect) {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!"false".equals(System.getProperty("mirrord.layer.connected"))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      System.out.println("after.connected=" + System.getProperty("mirrord.layer.connected"));
      // An app that runs on after the loss, as servers do: for good, or long enough for the layer's decision.
      Thread.sleep(keepRunning ? 10_000 : 1_000);
    }
    System.out.println("done=true");
    if (!exit.equals("return")) {
      System.exit(Integer.parseInt(exit));
    }
  }
}
