package dev.mirrord.jvm.e2e.apps;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.SingletonDnsServerAddressStreamProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * {@code OutgoingApp [CHECK...]}: what a real service does with its dependencies, by cluster names only — the names a
 * pod uses, which resolve through the pod's resolv.conf (search domains) and reach addresses only the pod can route
 * to. Runs each check (default: all, in this order) and prints one line per check:
 *
 * <pre>
 *   dns ok 198.18.0.20                                        InetAddress.getByName("svc")
 *   jdbc ok app:hello from jdbc                               PostgreSQL driver, jdbc:postgresql://postgres:5432/app
 *   redis ok hello from redis                                 Jedis SET/GET on redis:6379
 *   http ok hello from svc: GET /outgoing                     java.net.http.HttpClient GET http://svc:8080/outgoing
 *   tcp ok ping-tcp remote=svc/198.18.0.20:9000 inet=svc/198.18.0.20
 *                                                             java.net.Socket to the echo svc:9000
 *   tcpchannel ok ping-tcpchannel remote=svc/198.18.0.20:9000 SocketChannel, non-blocking connect + finishConnect
 *   udp ok ping-udp remote=svc/198.18.0.20:9001 inet=svc/198.18.0.20 from=/198.18.0.20:9001
 *                                                             connected DatagramSocket to the UDP echo svc:9001
 *   udpchannel ok ping-udpchannel remote=svc/198.18.0.20:9001 from=/198.18.0.20:9001
 *                                                             connected DatagramChannel, write + receive
 *   netty ok 198.18.0.20                                      Netty DnsNameResolver (NIO datagram channel) asking
 *                                                             198.18.0.53:53 for svc.default.svc.cluster.local
 * </pre>
 *
 * Error probes, run only when named: {@code refused} (svc:9009, where nothing listens: {@code ConnectException}),
 * {@code noroute} (198.18.0.99:9000, an address on the lab's /24 that nobody has: {@code NoRouteToHostException}
 * after the ARP timeout, about 3 s), {@code timeout} (the same with a 500 ms connect timeout: {@code
 * SocketTimeoutException}). They "fail" by design: what matters is that the error is the one the pod would get.
 *
 * <p>A failed check prints {@code <check> failed <root cause class>: <its message> (<outer class> > … > <root class>)}
 * (the chain follows causes, or the first suppressed exception where there is no cause).
 * Every check is bounded by {@value #TIMEOUT_MS} ms (connect and read). Exit code 0 only if every selected check
 * passed, else 1; 2 for an unknown check name.
 *
 * <p>The Netty resolver is given its name server explicitly (the cluster DNS of the lab, as the pod's resolv.conf
 * says; {@code --netty-dns=IP:PORT} to change it) and no search domains: it never reads this machine's resolv.conf, so
 * its queries never go anywhere but the lab. Under mirrord they must be answered by the pod's DNS.
 */
public final class OutgoingApp {
  public static final List<String> CHECKS =
      List.of("dns", "jdbc", "redis", "http", "tcp", "tcpchannel", "udp", "udpchannel", "netty");
  static final int TIMEOUT_MS = 5000;

  private static String nettyDns = "198.18.0.53:53";

  private OutgoingApp() {}

  /** One check: returns the text after "ok", or throws. */
  @FunctionalInterface
  interface Check {
    String run() throws Exception;
  }

  public static void main(String[] args) {
    Map<String, Check> all = new LinkedHashMap<>();
    all.put("dns", OutgoingApp::dns);
    all.put("jdbc", OutgoingApp::jdbc);
    all.put("redis", OutgoingApp::redis);
    all.put("http", OutgoingApp::http);
    all.put("tcp", OutgoingApp::tcp);
    all.put("tcpchannel", OutgoingApp::tcpChannel);
    all.put("udp", OutgoingApp::udp);
    all.put("udpchannel", OutgoingApp::udpChannel);
    all.put("netty", OutgoingApp::netty);
    // Error probes (not in the default set): each is expected to fail, with the error the pod itself would see.
    all.put("refused", () -> connectProbe(new InetSocketAddress("svc", 9009), TIMEOUT_MS));
    all.put("noroute", () -> connectProbe(new InetSocketAddress("198.18.0.99", 9000), TIMEOUT_MS));
    all.put("timeout", () -> connectProbe(new InetSocketAddress("198.18.0.99", 9000), 500));
    List<String> selected = new ArrayList<>();
    for (String a : args) {
      if (a.startsWith("--netty-dns=")) {
        nettyDns = a.substring("--netty-dns=".length());
      } else if (all.containsKey(a)) {
        selected.add(a);
      } else {
        System.err.println("OutgoingApp: unknown check " + a + "; known: " + all.keySet());
        System.exit(2);
      }
    }
    if (selected.isEmpty()) {
      selected.addAll(CHECKS);
    }
    boolean allOk = true;
    for (String name : selected) {
      long t0 = System.nanoTime();
      String line;
      try {
        line = name + " ok " + all.get(name).run();
      } catch (Throwable t) {
        allOk = false;
        line = name + " failed " + describe(t);
      }
      System.out.println(line);
      System.out.flush();
      System.err.printf(Locale.ROOT, "OutgoingApp: %s took %d ms%n", name,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }
    System.exit(allOk ? 0 : 1);
  }

  /** A plain connect with {@code timeoutMs}; returns "connected" (which a probe should never print). */
  static String connectProbe(InetSocketAddress to, int timeoutMs) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(to, timeoutMs);
      return "connected remote=" + socket.getRemoteSocketAddress();
    }
  }

  static String dns() throws Exception {
    return InetAddress.getByName("svc").getHostAddress();
  }

  static String jdbc() throws Exception {
    String url = "jdbc:postgresql://postgres:5432/app?user=postgres&sslmode=disable&gssEncMode=disable"
        + "&connectTimeout=5&socketTimeout=5&loginTimeout=5";
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE outgoing_check (v text)");
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO outgoing_check VALUES (?)")) {
        insert.setString(1, "hello from jdbc");
        insert.executeUpdate();
      }
      try (ResultSet r = s.executeQuery("SELECT current_database(), v FROM outgoing_check")) {
        if (!r.next()) {
          throw new IllegalStateException("no row");
        }
        return r.getString(1) + ":" + r.getString(2);
      }
    }
  }

  static String redis() throws Exception {
    DefaultJedisClientConfig config = DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis(TIMEOUT_MS)
        .socketTimeoutMillis(TIMEOUT_MS)
        .build();
    try (Jedis jedis = new Jedis(new HostAndPort("redis", 6379), config)) {
      String key = "outgoing-check-" + ProcessHandle.current().pid();
      jedis.set(key, "hello from redis");
      String value = jedis.get(key);
      jedis.del(key);
      return value;
    }
  }

  static String http() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(TIMEOUT_MS)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://svc:8080/outgoing")).timeout(Duration.ofMillis(TIMEOUT_MS)).build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("status " + response.statusCode());
    }
    return response.body().strip();
  }

  static String tcp() throws Exception {
    return tcp(new InetSocketAddress("svc", 9000));
  }

  /** A {@code Socket} to the TCP echo at {@code to}: "ping-tcp remote=… inet=…". */
  static String tcp(InetSocketAddress to) throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(to, TIMEOUT_MS);
      socket.setSoTimeout(TIMEOUT_MS);
      OutputStream out = socket.getOutputStream();
      out.write("ping-tcp\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      String echo = in.readLine();
      return echo + " remote=" + socket.getRemoteSocketAddress() + " inet=" + socket.getInetAddress();
    }
  }

  static String tcpChannel() throws Exception {
    return tcpChannel(new InetSocketAddress("svc", 9000));
  }

  /** A non-blocking {@code SocketChannel} to the TCP echo at {@code to}: "ping-tcpchannel remote=…". */
  static String tcpChannel(InetSocketAddress to) throws Exception {
    try (SocketChannel ch = SocketChannel.open();
        Selector selector = Selector.open()) {
      ch.configureBlocking(false);
      SelectionKey key = ch.register(selector, SelectionKey.OP_CONNECT);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
      if (!ch.connect(to)) {
        while (!ch.finishConnect()) {
          awaitReady(selector, deadline, "connect");
        }
      }
      ByteBuffer out = ByteBuffer.wrap("ping-tcpchannel\n".getBytes(StandardCharsets.US_ASCII));
      while (out.hasRemaining()) {
        ch.write(out); // 16 bytes into an empty send buffer: never short in practice; bounded by the deadline anyway
        if (out.hasRemaining()) {
          awaitReady(selector, deadline, "write");
        }
      }
      key.interestOps(SelectionKey.OP_READ);
      ByteBuffer in = ByteBuffer.allocate(256);
      while (in.position() == 0 || in.get(in.position() - 1) != '\n') {
        if (ch.read(in) < 0) {
          throw new java.io.EOFException("closed after " + in.position() + " bytes");
        }
        if (in.position() == 0 || in.get(in.position() - 1) != '\n') {
          awaitReady(selector, deadline, "echo");
        }
      }
      String echo = new String(in.array(), 0, in.position() - 1, StandardCharsets.US_ASCII);
      return echo + " remote=" + ch.getRemoteAddress();
    }
  }

  /** One bounded select; SocketTimeoutException once the deadline has passed. */
  private static void awaitReady(Selector selector, long deadline, String what) throws java.io.IOException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (left <= 0) {
      throw new java.net.SocketTimeoutException(what + " timed out after " + TIMEOUT_MS + " ms");
    }
    selector.select(left);
    selector.selectedKeys().clear();
  }

  static String udp() throws Exception {
    return udp(new InetSocketAddress("svc", 9001));
  }

  /** A connected {@code DatagramSocket} to the UDP echo at {@code to}: "ping-udp remote=… inet=… from=…". */
  static String udp(InetSocketAddress to) throws Exception {
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.connect(to);
      socket.setSoTimeout(TIMEOUT_MS);
      byte[] ping = "ping-udp".getBytes(StandardCharsets.US_ASCII);
      socket.send(new DatagramPacket(ping, ping.length));
      DatagramPacket reply = new DatagramPacket(new byte[512], 512);
      socket.receive(reply);
      String echo = new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII);
      return echo + " remote=" + socket.getRemoteSocketAddress() + " inet=" + socket.getInetAddress()
          + " from=" + reply.getSocketAddress();
    }
  }

  static String udpChannel() throws Exception {
    return udpChannel(new InetSocketAddress("svc", 9001));
  }

  /** A connected {@code DatagramChannel} to the UDP echo at {@code to}: "ping-udpchannel remote=… from=…". */
  static String udpChannel(InetSocketAddress to) throws Exception {
    try (DatagramChannel ch = DatagramChannel.open();
        Selector selector = Selector.open()) {
      ch.connect(to);
      ch.write(ByteBuffer.wrap("ping-udpchannel".getBytes(StandardCharsets.US_ASCII)));
      ch.configureBlocking(false);
      ch.register(selector, SelectionKey.OP_READ);
      ByteBuffer in = ByteBuffer.allocate(512);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
      SocketAddress from = null;
      while (from == null) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw new java.net.SocketTimeoutException("no echo within " + TIMEOUT_MS + " ms");
        }
        selector.select(left);
        selector.selectedKeys().clear();
        from = ch.receive(in);
      }
      String echo = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
      return echo + " remote=" + ch.getRemoteAddress() + " from=" + from;
    }
  }

  static String netty() throws Exception {
    int colon = nettyDns.lastIndexOf(':');
    InetSocketAddress server = new InetSocketAddress(
        InetAddress.getByName(nettyDns.substring(0, colon)), Integer.parseInt(nettyDns.substring(colon + 1)));
    return netty(server, "svc.default.svc.cluster.local", ResolvedAddressTypes.IPV4_ONLY);
  }

  /** Netty's {@code DnsNameResolver} asking {@code server} itself for {@code name}: the first address it gives. */
  static String netty(InetSocketAddress server, String name, ResolvedAddressTypes types) throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      DnsNameResolver resolver = new DnsNameResolverBuilder(group.next())
          .datagramChannelType(NioDatagramChannel.class)
          .nameServerProvider(new SingletonDnsServerAddressStreamProvider(server))
          .searchDomains(List.of())
          .ndots(1)
          .hostsFileEntriesResolver(HostsFileEntriesResolver.DEFAULT)
          .resolvedAddressTypes(types)
          .queryTimeoutMillis(TIMEOUT_MS - 1000)
          .maxQueriesPerResolve(2)
          .build();
      try {
        InetAddress a = resolver.resolve(name).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return a.getHostAddress();
      } finally {
        resolver.close();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
    }
  }

  /**
   * "Root: message (Outer > … > Root)" for an exception and its causes. An exception without a cause but with
   * suppressed ones (Jedis: one per address it tried) continues with the first suppressed one.
   */
  static String describe(Throwable t) {
    List<String> chain = new ArrayList<>();
    Throwable root = t;
    for (Throwable c = t; c != null && chain.size() < 8; c = next(c)) {
      if (c instanceof java.util.concurrent.ExecutionException && c.getCause() != null) {
        continue;
      }
      chain.add(c.getClass().getSimpleName());
      root = c;
    }
    String msg = String.valueOf(root.getMessage()).replace('\n', ' ');
    return root.getClass().getSimpleName() + ": " + msg + " (" + String.join(" > ", chain) + ")";
  }

  private static Throwable next(Throwable t) {
    if (t.getCause() != null) {
      return t.getCause();
    }
    Throwable[] suppressed = t.getSuppressed();
    return suppressed.length > 0 ? suppressed[0] : null;
  }
}
