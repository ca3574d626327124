package dev.mirrord.jvm.podagent.stealer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.podagent.http.HttpFilterMatcher;
import dev.mirrord.jvm.podagent.iptables.PortRedirector;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.relay.ReadBatch;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A filtered port end to end on loopback, without iptables: a client talks to the agent's listener
 * directly, the pass-through socket reaches a raw test server on the "target port", and a recording
 * session answers matched requests. Checks routing per request on one keep-alive connection,
 * byte-for-byte pass-through, answers in request order, non-HTTP pass-through, malformed requests,
 * and a session's 502 when its app fails.
 */
class FilteredConnectionTest {
  private EventLoopGroup loops;
  private TcpStealer stealer;
  private RawTargetServer target;
  private final AtomicInteger agentPort = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    loops = Transport.NIO.newGroup(1, new DefaultThreadFactory("test-filtered", true));
    target = new RawTargetServer();
    PortRedirector recording = new PortRedirector() {
      @Override
      public void redirect(int targetPort, int port) {
        agentPort.set(port);
      }

      @Override
      public void unredirect(int targetPort, int port) {}

      @Override
      public Set<Integer> portsStolenByOthers() {
        return Set.of();
      }

      @Override
      public void close() {}
    };
    stealer = new TcpStealer(loops, recording, port -> {}, Duration.ZERO, "s1", 0);
  }

  @AfterEach
  void stop() throws IOException {
    stealer.close();
    target.close();
    loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
  }

  private RecordingSession subscribe(String name, Http.Filter filter) {
    RecordingSession s = new RecordingSession(loops.next(), name);
    assertThat(stealer.subscribeFiltered(target.port(), s, HttpFilterMatcher.compile(filter)).isOk()).isTrue();
    return s;
  }

  @Test
  void keepAliveConnectionMixingMatchedAndUnmatchedRequestsGetsEveryAnswerInOrder() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("^x-dev: alice$"));
    String r1 = "GET /one HTTP/1.1\r\nHost: pod\r\nX-Case-Kept: Yes\r\n\r\n";
    String r2 = "POST /two HTTP/1.1\r\nHost: pod\r\nX-Dev: alice\r\nContent-Length: 5\r\n\r\nhello";
    String r3 = "PUT /three HTTP/1.1\r\nHost: pod\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      // split at odd places, as a client's writes and the network may
      byte[] all = (r1 + r2 + r3).getBytes(StandardCharsets.ISO_8859_1);
      OutputStream out = c.getOutputStream();
      for (int i = 0; i < all.length; i += 7) {
        out.write(all, i, Math.min(7, all.length - i));
        out.flush();
      }
      Http.Request req = alice.awaitRequest();
      assertThat(req.method()).isEqualTo("POST");
      assertThat(req.uri()).isEqualTo("/two");
      assertThat(req.headers()).contains(new Http.Header("X-Dev", "alice"));
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.body(req.streamId()).equals("hello"));
      answer(alice, req.streamId(), "from alice");

      String answers = readAnswers(c.getInputStream(), 3);
      assertThat(answers).containsSubsequence("pod 1", "from alice", "pod 2");
      await().atMost(Duration.ofSeconds(5)).until(() -> target.requests.size() == 2);
      assertThat(target.requests).containsExactly(r1, r3);
    }
  }

  @Test
  void aConnectionThatIsNotHttpPassesThroughWholeBothWays() throws Exception {
    subscribe("alice", new Http.Filter.Header("x-dev"));
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write("\u0016\u0003\u0001binary stuff\r\n".getBytes(StandardCharsets.ISO_8859_1));
      c.shutdownOutput();
      await().atMost(Duration.ofSeconds(10)).until(() -> target.raw.toString().contains("binary stuff"));
      assertThat(target.raw.toString()).isEqualTo("\u0016\u0003\u0001binary stuff\r\n");
    }
  }

  @Test
  void aMalformedRequestAndWhatFollowsGoToTheTargetAsSent() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("x-dev"));
    String good = "GET /ok HTTP/1.1\r\nHost: pod\r\n\r\n";
    String bad = "GET /bad HTTP/1.1\r\nno colon here\r\nX-Dev: x\r\n\r\n";
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write((good + bad).getBytes(StandardCharsets.ISO_8859_1));
      await().atMost(Duration.ofSeconds(10)).until(() -> target.raw.toString().equals(good + bad));
      assertThat(alice.requests()).isEmpty();
    }
  }

  @Test
  void aSessionWhoseAppFailsAnswersWith502AndTheConnectionCloses() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Path("^/mine"));
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write("GET /mine HTTP/1.1\r\nHost: pod\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Http.Request req = alice.awaitRequest();
      alice.loop.execute(() -> stealer.fromClient(alice, new Tcp.Close(req.streamId(), true)));
      String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer).startsWith("HTTP/1.1 502 ");
    }
  }

  @Test
  void theFirstMatchingSessionTakesARequestAndAnUnsubscribedOnesRequestsGoToTheTarget() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("x-dev: (alice|both)"));
    RecordingSession bob = subscribe("bob", new Http.Filter.Header("x-dev: (bob|both)"));
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      OutputStream out = c.getOutputStream();
      out.write("GET /b HTTP/1.1\r\nX-Dev: bob\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Http.Request b = bob.awaitRequest();
      answer(bob, b.streamId(), "from bob");
      out.write("GET /both HTTP/1.1\r\nX-Dev: both\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Http.Request both = alice.awaitRequest();
      answer(alice, both.streamId(), "from alice");
      assertThat(readAnswers(c.getInputStream(), 2)).containsSubsequence("from bob", "from alice");
      stealer.unsubscribe(target.port(), bob);
      out.write("GET /b2 HTTP/1.1\r\nX-Dev: bob\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readAnswers(c.getInputStream(), 1)).contains("pod 1");
      assertThat(bob.requests()).hasSize(1);
    }
  }

  @Test
  void anAnswerThatArrivesInOneReadBatchOfTheSessionIsWrittenOnceAtTheBatchEnd() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("x-dev"));
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write("GET /mine HTTP/1.1\r\nHost: pod\r\nX-Dev: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      Http.Request req = alice.awaitRequest();
      byte[] body = "in one batch".getBytes(StandardCharsets.ISO_8859_1);
      // as ClientSession dispatches one read of its connection: head, body and end, then read-complete
      alice.loop.execute(() -> {
        ReadBatch.begin();
        stealer.fromClient(alice, new Http.Response(req.streamId(), Http.HTTP_1_1, 200, "OK",
            List.of(new Http.Header("Content-Length", Integer.toString(body.length))), false));
        stealer.fromClient(alice, new Tcp.Data(req.streamId(), Payload.copyOf(body)));
        stealer.fromClient(alice, new Http.BodyEnd(req.streamId(), List.of()));
      });
      InputStream in = c.getInputStream();
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> in.available() == 0);
      alice.loop.execute(ReadBatch::end);
      assertThat(readAnswers(in, 1)).startsWith("HTTP/1.1 200 OK").endsWith("in one batch\n");
    }
  }

  @Test
  void aTargetThatServesNothingOnThePortStillHandsMatchedRequestsOverAndAnswersTheOthers502() throws Exception {
    RecordingSession alice = subscribe("alice", new Http.Filter.Header("^x-dev: alice$"));
    int port = target.port();
    target.close(); // the pod's own server is not there (restarting, or it never listened): connects are refused
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      OutputStream out = c.getOutputStream();
      InputStream in = c.getInputStream();
      out.write("GET /theirs HTTP/1.1\r\nHost: pod\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readAnswers(in, 1)).startsWith("HTTP/1.1 502 ").contains("port " + port + " cannot be reached")
          .doesNotContainIgnoringCase("connection: close");

      out.write("POST /mine HTTP/1.1\r\nHost: pod\r\nX-Dev: alice\r\nContent-Length: 2\r\n\r\nhi"
          .getBytes(StandardCharsets.ISO_8859_1));
      Http.Request mine = alice.awaitRequest();
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.body(mine.streamId()).equals("hi"));
      answer(alice, mine.streamId(), "from alice");
      assertThat(readAnswers(in, 1)).startsWith("HTTP/1.1 200 ").endsWith("from alice\n");

      // an unmatched request whose body is still coming when its 502 is written: the body is skipped
      out.write("POST /theirs HTTP/1.1\r\nHost: pod\r\nContent-Length: 5\r\n\r\nhel".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readAnswers(in, 1)).startsWith("HTTP/1.1 502 ");
      out.write("lo".getBytes(StandardCharsets.ISO_8859_1));

      // the pod's server is back: the next unmatched request reaches it on the same client connection
      target = new RawTargetServer(port);
      out.write("GET /back HTTP/1.1\r\nHost: pod\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(readAnswers(in, 1)).startsWith("HTTP/1.1 200 ").endsWith("pod 1\n");
      assertThat(target.requests).containsExactly("GET /back HTTP/1.1\r\nHost: pod\r\n\r\n");
      assertThat(alice.requests()).hasSize(1);
    }
  }

  @Test
  void aConnectionThatIsNotHttpIsClosedWhenTheTargetServesNothingOnThePort() throws Exception {
    subscribe("alice", new Http.Filter.Header("x-dev"));
    target.close();
    try (Socket c = new Socket(InetAddress.getLoopbackAddress(), agentPort.get())) {
      c.setSoTimeout(10_000);
      c.getOutputStream().write("\u0016\u0003\u0001binary stuff\r\n".getBytes(StandardCharsets.ISO_8859_1));
      assertThat(c.getInputStream().read()).isEqualTo(-1);
    }
  }

  /** Reads {@code n} answers with a Content-Length body each. */
  private static String readAnswers(InputStream in, int n) throws IOException {
    StringBuilder all = new StringBuilder();
    Pattern cl = Pattern.compile("(?i)content-length: (\\d+)");
    for (int i = 0; i < n; i++) {
      String head = readHead(in);
      Matcher m = cl.matcher(head);
      assertThat(m.find()).as("content-length in %s", head).isTrue();
      byte[] body = in.readNBytes(Integer.parseInt(m.group(1)));
      all.append(head).append(new String(body, StandardCharsets.ISO_8859_1)).append('\n');
    }
    return all.toString();
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed after " + head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** Answers {@code streamId} as the CLI would. */
  private void answer(RecordingSession s, long streamId, String text) {
    byte[] body = text.getBytes(StandardCharsets.ISO_8859_1);
    s.loop.execute(() -> {
      stealer.fromClient(s, new Http.Response(streamId, Http.HTTP_1_1, 200, "OK",
          List.of(new Http.Header("Content-Length", Integer.toString(body.length))), false));
      stealer.fromClient(s, new Tcp.Data(streamId, Payload.copyOf(body)));
      stealer.fromClient(s, new Http.BodyEnd(streamId, List.of()));
    });
  }

  /**
   * The target's own server: records each request's bytes exactly (Content-Length or chunked
   * bodies), answers {@code pod N} (N counts the requests of the connection); also every raw byte.
   */
  static final class RawTargetServer implements AutoCloseable {
    final ServerSocket server;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final StringBuffer raw = new StringBuffer();
    private final Thread acceptor;

    RawTargetServer() throws IOException {
      this(0);
    }

    RawTargetServer(int port) throws IOException {
      server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
      acceptor = new Thread(this::accept, "raw-target");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      try {
        while (true) {
          Socket s = server.accept();
          Thread t = new Thread(() -> serve(s), "raw-target-conn");
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException e) {
        // closed
      }
    }

    private void serve(Socket s) {
      try (s) {
        InputStream in = new java.io.BufferedInputStream(s.getInputStream()) {
          @Override
          public synchronized int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
              raw.append((char) b);
            }
            return b;
          }
        };
        int n = 0;
        while (true) {
          StringBuilder req = new StringBuilder();
          if (!readLine(in, req, true)) {
            return;
          }
          // head lines until the empty one
          int bodyLength = 0;
          boolean chunked = false;
          while (true) {
            int start = req.length();
            if (!readLine(in, req, false)) {
              return;
            }
            String line = req.substring(start).strip();
            if (line.isEmpty()) {
              break;
            }
            if (line.toLowerCase().startsWith("content-length:")) {
              bodyLength = Integer.parseInt(line.substring(15).strip());
            }
            if (line.toLowerCase().startsWith("transfer-encoding:") && line.toLowerCase().contains("chunked")) {
              chunked = true;
            }
            if (!line.contains(":")) {
              // malformed: keep everything as raw, answer nothing more
              while (in.read() >= 0) {
                // drain
              }
              return;
            }
          }
          if (chunked) {
            while (true) {
              int start = req.length();
              readLine(in, req, false);
              int size = Integer.parseInt(req.substring(start).strip().split(";")[0], 16);
              if (size == 0) {
                while (true) {
                  int t0 = req.length();
                  readLine(in, req, false);
                  if (req.substring(t0).strip().isEmpty()) {
                    break;
                  }
                }
                break;
              }
              for (int i = 0; i < size + 2; i++) {
                req.append((char) in.read());
              }
            }
          } else {
            for (int i = 0; i < bodyLength; i++) {
              req.append((char) in.read());
            }
          }
          requests.add(req.toString());
          n++;
          byte[] body = ("pod " + n).getBytes(StandardCharsets.ISO_8859_1);
          OutputStream out = s.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.write(body);
          out.flush();
        }
      } catch (IOException | RuntimeException e) {
        // the client went
      }
    }

    /** Appends one line (with its CRLF) to {@code sb}; false at EOF. */
    private static boolean readLine(InputStream in, StringBuilder sb, boolean first) throws IOException {
      while (true) {
        int b = in.read();
        if (b < 0) {
          return false;
        }
        sb.append((char) b);
        if (b == '\n') {
          return true;
        }
      }
    }

    /**
     * Stops listening, for sure once this returns: a socket closed while a thread is in its accept()
     * still accepts a connect that comes before that thread has left it (so a test's "refused"
     * connect could be served).
     */
    @Override
    public void close() throws IOException {
      server.close();
      try {
        acceptor.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
