package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * A stand-in for the pod agent that answers every client's first frame with fixed bytes, to test how the CLI handles
 * an agent it cannot work with (e.g. a {@code HelloRejected} from a future protocol version). Run as the agent jar:
 * {@code java -jar fake-agent.jar --target-pid N --listen unix:PATH …} with the reply, a complete frame, in the
 * environment variable {@value #REPLY_ENV} as hex. Like the real agent it prints {@code MIRRORD_AGENT_READY
 * unix:PATH}, and exits when its stdin ends (the CLI is gone) or after {@value #MAX_SECONDS} s.
 */
public final class FakeAgentApp {
  public static final String REPLY_ENV = "MIRRORD_E2E_FAKE_AGENT_REPLY_HEX";
  static final int MAX_SECONDS = 30;

  private FakeAgentApp() {}

  public static void main(String[] args) throws IOException {
    String listen = null;
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--listen")) {
        listen = args[i + 1];
      }
    }
    String hex = System.getenv(REPLY_ENV);
    if (listen == null || !listen.startsWith("unix:") || hex == null) {
      System.err.println("fake agent: need --listen unix:PATH and " + REPLY_ENV);
      System.exit(2);
    }
    byte[] reply = HexFormat.of().parseHex(hex);
    Path socket = Path.of(listen.substring("unix:".length()));
    daemon(() -> sleepThenExit());
    daemon(() -> exitOnStdinEof());
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      System.out.println("MIRRORD_AGENT_READY " + listen);
      System.out.flush();
      try (SocketChannel client = server.accept()) {
        ByteBuffer length = ByteBuffer.allocate(4);
        readFully(client, length);
        readFully(client, ByteBuffer.allocate(length.flip().getInt()));
        client.write(ByteBuffer.wrap(reply));
        // until the CLI hangs up
        while (client.read(ByteBuffer.allocate(256)) >= 0) {
          // discard
        }
      }
    } finally {
      Files.deleteIfExists(socket);
    }
    System.exit(0);
  }

  private static void readFully(SocketChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        throw new IOException("client closed early");
      }
    }
  }

  private static void sleepThenExit() {
    try {
      Thread.sleep(MAX_SECONDS * 1000L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.exit(1);
  }

  private static void exitOnStdinEof() {
    try {
      while (System.in.read() >= 0) {
        // nothing is expected on stdin; only its end matters
      }
    } catch (IOException e) {
      // treated as EOF
    }
    System.exit(0);
  }

  private static void daemon(Runnable r) {
    Thread t = new Thread(r, "fake-agent-watchdog");
    t.setDaemon(true);
    t.start();
  }
}
