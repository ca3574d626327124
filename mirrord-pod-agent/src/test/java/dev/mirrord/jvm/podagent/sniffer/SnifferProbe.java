package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child-JVM program for {@link AfPacketSourceTest}, started with {@code ip netns exec NS java ...
 * SnifferProbe ...} so that it runs inside the test's namespace. Output on stdout, one line per
 * fact; logs on stderr.
 *
 * <ul>
 *   <li>{@code capture PORT COUNT TIMEOUT_S [ring|recvfrom]}: serves TCP on PORT (reads to EOF,
 *       then closes), and mirrors it with a real {@link AfPacketSource} (its receive ring, the
 *       default, or {@code recvfrom}) + {@link TcpSniffer}. Prints {@code SOURCE ring|recvfrom},
 *       {@code READY}, then {@code SERVED len sha256} per served connection and {@code CAPTURED id
 *       len sha256 reset} per mirrored one, then {@code STATS received dropped truncated
 *       ringFreezes ringBlocks}, {@code RING mib grown shrunk} and exits once COUNT of each were
 *       seen (or after TIMEOUT_S). With {@code -Dprobe.stallAtConnection=N -Dprobe.stallMillis=M}
 *       the capture thread sleeps M ms in the subscriber's first data call of the N-th connection
 *       (a reader that falls behind); with {@code -Dprobe.watchRing=true} it prints {@code RINGNOW
 *       mib} whenever the ring's size changes; with {@code -Dprobe.awaitRingMib=K} it waits, after
 *       the STATS line, up to 30 s for the ring to be K MiB and prints {@code RING-AFTER mib grown
 *       shrunk}.
 *   <li>{@code send HOST PORT SEED COUNT SIZE [PAUSE_MS]}: COUNT concurrent connections, connection
 *       i sending SIZE bytes of {@code new Random(SEED + i)}, pausing PAUSE_MS after every 64 KiB
 *       (default 0); prints {@code SENT i len sha256}.
 *   <li>{@code bench PORT CONNECTIONS WRITES WRITE_SIZE}: capture, and send from the same JVM over
 *       loopback with TCP_NODELAY small writes; prints packet rate and kernel counters.
 * </ul>
 */
final class SnifferProbe {
  private SnifferProbe() {}

  public static void main(String[] args) throws Exception {
    // The capture's INFO lines (a replaced ring) on stderr, where the test reads them.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.INFO);
    switch (args[0]) {
      case "capture" ->
          capture(
              Integer.parseInt(args[1]),
              Integer.parseInt(args[2]),
              Integer.parseInt(args[3]),
              args.length > 4 ? args[4] : "ring");
      case "send" ->
          send(
              args[1],
              Integer.parseInt(args[2]),
              Long.parseLong(args[3]),
              Integer.parseInt(args[4]),
              Integer.parseInt(args[5]),
              args.length > 6 ? Integer.parseInt(args[6]) : 0);
      case "bench" ->
          bench(
              Integer.parseInt(args[1]),
              Integer.parseInt(args[2]),
              Integer.parseInt(args[3]),
              Integer.parseInt(args[4]));
      default -> throw new IllegalArgumentException(args[0]);
    }
  }

  static byte[] payload(long seed, int index, int size) {
    byte[] bytes = new byte[size];
    new Random(seed + index).nextBytes(bytes);
    return bytes;
  }

  static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static synchronized void println(String line) {
    System.out.println(line);
    System.out.flush();
  }

  /**
   * Hashes each mirrored stream and prints it when the connection ends. The hashing runs on a
   * thread of its own, as a real subscriber hands its work over (to a Netty channel) and returns:
   * the capture thread only queues.
   */
  private static final class HashingSubscriber implements SnifferSubscriber {
    private final Map<Long, MessageDigest> digests = new ConcurrentHashMap<>();
    private final Map<Long, Long> lengths = new ConcurrentHashMap<>();
    private final CountDownLatch done;
    private final boolean hash;

    /** capture thread --subscriber calls--> hashing thread */
    private final BlockingQueue<Runnable> hashingWork = new LinkedBlockingQueue<>();

    HashingSubscriber(int expected, boolean hash) {
      this.done = new CountDownLatch(expected);
      this.hash = hash;
      Thread.ofPlatform()
          .daemon()
          .name("probe-hashing")
          .start(
              () -> {
                try {
                  while (true) {
                    hashingWork.take().run();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
    }

    @Override
    public void newConnection(long connectionId, FlowKey flow) {
      if (++connections == stallAtConnection) {
        stallConnectionId = connectionId;
      }
      hashingWork.add(
          () -> {
            digests.put(connectionId, digest());
            lengths.put(connectionId, 0L);
          });
    }

    private final int stallMillis = Integer.getInteger("probe.stallMillis", 0);
    private final int stallAtConnection = Integer.getInteger("probe.stallAtConnection", 0);
    private int connections;
    private long stallConnectionId = -1;

    @Override
    public void data(long connectionId, byte[] bytes) {
      if (connectionId == stallConnectionId) {
        stallConnectionId = -1;
        try {
          Thread.sleep(stallMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      hashingWork.add(
          () -> {
            if (hash) {
              digests.get(connectionId).update(bytes);
            }
            lengths.merge(connectionId, (long) bytes.length, Long::sum);
          });
    }

    @Override
    public void closed(long connectionId, boolean reset) {
      hashingWork.add(
          () -> {
            println(
                "CAPTURED "
                    + connectionId
                    + " "
                    + lengths.remove(connectionId)
                    + " "
                    + HexFormat.of().formatHex(digests.remove(connectionId).digest())
                    + " "
                    + reset);
            done.countDown();
          });
    }
  }

  private static void capture(int port, int count, int timeoutSeconds, String mode)
      throws Exception {
    CountDownLatch served = new CountDownLatch(count);
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(port), 128); // the wildcard: IPv4 and IPv6
    Thread.ofPlatform()
        .daemon()
        .name("probe-server")
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket socket = server.accept();
                  Thread.ofPlatform().daemon().start(() -> serve(socket, served));
                } catch (IOException e) {
                  return;
                }
              }
            });
    HashingSubscriber subscriber = new HashingSubscriber(count, true);
    if (Boolean.getBoolean("probe.warmUp")) {
      println("WARMUP " + AfPacketSource.warmUp()); // as the agent does before a session's first subscription
    }
    AfPacketSource source =
        switch (mode) {
          case "ring" -> AfPacketSource.open();
          case "recvfrom" -> AfPacketSource.openRecvfrom(AfPacketSource.DEFAULT_RECEIVE_BUFFER);
          default -> throw new IllegalArgumentException(mode);
        };
    println("SOURCE " + (source.usesRing() ? "ring" : "recvfrom"));
    if (Boolean.getBoolean("probe.watchRing")) {
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                int last = -1;
                while (true) {
                  int mib = source.ringMib();
                  if (mib != last) {
                    println("RINGNOW " + mib);
                    last = mib;
                  }
                  try {
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
    }
    try (TcpSniffer sniffer = TcpSniffer.start(source, TcpFlowTracker.Config.defaults())) {
      sniffer.subscribe(port, subscriber);
      println("READY");
      boolean all =
          subscriber.done.await(timeoutSeconds, TimeUnit.SECONDS)
              & served.await(timeoutSeconds, TimeUnit.SECONDS);
      PacketSource.Stats stats = sniffer.sourceStats();
      println(
          "STATS "
              + stats.received()
              + " "
              + stats.dropped()
              + " "
              + stats.truncated()
              + " "
              + stats.ringFreezes()
              + " "
              + source.ringBlocksReleased());
      println("COUNTERS " + sniffer.counters());
      println("RING " + ring(source));
      Integer awaitMib = Integer.getInteger("probe.awaitRingMib");
      if (awaitMib != null) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (source.ringMib() != awaitMib && System.nanoTime() - deadline < 0) {
          Thread.sleep(50);
        }
        println("RING-AFTER " + ring(source));
      }
      println(all ? "DONE" : "TIMEOUT");
    }
    server.close();
  }

  /** {@code mib grown shrunk} of the source's ring. */
  private static String ring(AfPacketSource source) {
    return source.ringMib() + " " + source.ringsGrown() + " " + source.ringsShrunk();
  }

  private static void serve(Socket socket, CountDownLatch served) {
    try (socket;
        InputStream in = socket.getInputStream()) {
      MessageDigest digest = digest();
      byte[] buffer = new byte[65536];
      long total = 0;
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
        total += n;
      }
      println("SERVED " + total + " " + HexFormat.of().formatHex(digest.digest()));
    } catch (IOException e) {
      println("SERVE-ERROR " + e);
    } finally {
      served.countDown();
    }
  }

  private static void send(String host, int port, long seed, int count, int size, int pauseMillis)
      throws Exception {
    InetAddress address = InetAddress.getByName(host);
    Thread[] senders = new Thread[count];
    for (int i = 0; i < count; i++) {
      int index = i;
      senders[i] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    byte[] bytes = payload(seed, index, size);
                    try (Socket socket = new Socket()) {
                      socket.connect(new InetSocketAddress(address, port), 10_000);
                      socket.setSoTimeout(30_000);
                      OutputStream out = socket.getOutputStream();
                      // Several writes, so the stream is many segments even on loopback.
                      for (int at = 0; at < bytes.length; at += 7_000) {
                        out.write(bytes, at, Math.min(7_000, bytes.length - at));
                        if (pauseMillis > 0 && (at + 7_000) / 65_536 != at / 65_536) {
                          Thread.sleep(pauseMillis);
                        }
                      }
                      socket.shutdownOutput();
                      while (socket.getInputStream().read() >= 0) {
                        // until the server closes
                      }
                      println("SENT " + index + " " + bytes.length + " " + sha256(bytes));
                    } catch (IOException e) {
                      println("SEND-ERROR " + index + " " + e);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
    }
    for (Thread sender : senders) {
      sender.join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  /**
   * Measures the capture on loopback: small TCP_NODELAY writes, so one packet per write. Bounded by
   * {@code connections * writes}.
   */
  private static void bench(int port, int connections, int writes, int writeSize) throws Exception {
    CountDownLatch served = new CountDownLatch(connections);
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket socket = server.accept();
                  Thread.ofPlatform().daemon().start(() -> serve(socket, served));
                } catch (IOException e) {
                  return;
                }
              }
            });
    HashingSubscriber subscriber = new HashingSubscriber(connections, false);
    try (TcpSniffer sniffer =
        TcpSniffer.start(AfPacketSource.open(), TcpFlowTracker.Config.defaults())) {
      sniffer.subscribe(port, subscriber);
      long start = System.nanoTime();
      Thread[] senders = new Thread[connections];
      for (int c = 0; c < connections; c++) {
        senders[c] =
            Thread.ofPlatform()
                .start(
                    () -> {
                      byte[] chunk = new byte[writeSize];
                      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                        socket.setTcpNoDelay(true);
                        OutputStream out = socket.getOutputStream();
                        for (int i = 0; i < writes; i++) {
                          out.write(chunk);
                        }
                        socket.shutdownOutput();
                        while (socket.getInputStream().read() >= 0) {
                          // until the server closes
                        }
                      } catch (IOException e) {
                        println("SEND-ERROR " + e);
                      }
                    });
      }
      for (Thread sender : senders) {
        sender.join(120_000);
      }
      boolean complete = subscriber.done.await(60, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      PacketSource.Stats stats = sniffer.sourceStats();
      var threads = java.lang.management.ManagementFactory.getThreadMXBean();
      long cpuNanos =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> t.getName().equals(TcpSniffer.THREAD_NAME))
              .mapToLong(t -> threads.getThreadCpuTime(t.threadId()))
              .sum();
      long processed = stats.received() - stats.dropped();
      println(
          String.format(
              "BENCH %.2f s, kernel received %d, dropped %d; sniffer thread CPU"
                  + " %.2f s for %d packets = %.0f packets per CPU-second; complete %s",
              seconds,
              stats.received(),
              stats.dropped(),
              cpuNanos / 1e9,
              processed,
              processed / (cpuNanos / 1e9),
              complete));
    }
    server.close();
  }
}
