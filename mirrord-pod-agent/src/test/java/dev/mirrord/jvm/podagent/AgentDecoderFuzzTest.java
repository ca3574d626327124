package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.mirrord.jvm.podagent.session.ClientSession;
import dev.mirrord.jvm.podagent.session.SessionContext;
import dev.mirrord.jvm.podagent.session.SessionListener;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import dev.mirrord.jvm.protocol.codec.WireTags;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Hostile input against the agent's side of the protocol: the real pipeline ({@link
 * ProtocolPipeline} with Side.AGENT and the real {@link ClientSession}) gets random and mutated
 * frames. Nothing may escape the pipeline, garbage must close the channel, no buffer may leak, and
 * memory stays bounded by the input, whatever length a header claims.
 *
 * <p>Reproduce a failure with {@code -Dfuzz.seed=<seed printed in the message>}.
 */
class AgentDecoderFuzzTest {
  private static final int INPUTS = 100_000;
  private static final String TOKEN = "fuzz-token";
  private static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());

  /** How an input is made, and whether the agent must close the connection on it. */
  enum Mutation {
    /** A valid frame (of either direction) with a few bits flipped. Anything may happen. */
    BIT_FLIP(false),
    /** A valid frame cut short, length header untouched: the agent waits for more. */
    TRUNCATE(false),
    /** A valid frame whose body is cut short, length header fixed to match. */
    SHORT_BODY(true),
    /** A valid frame with junk appended inside the frame. */
    TRAILING_BYTES(true),
    /** A valid body under a random (mostly wrong) length header. Anything may happen. */
    LENGTH_LIE(false),
    /** A length header larger than MAX_FRAME, up to 0xffffffff. */
    OVERSIZE_LENGTH(true),
    /** A tag the table does not know, with a random body. */
    UNKNOWN_TAG(true),
    /** A valid agent-to-client message sent to the agent. */
    WRONG_DIRECTION(true),
    /** Any known tag with a random body. Anything may happen. */
    RANDOM_TAG(false),
    /** Random bytes. Anything may happen. */
    RANDOM_BYTES(false);

    final boolean mustClose;

    Mutation(boolean mustClose) {
      this.mustClose = mustClose;
    }
  }

  private static final Logger sessionLogger = (Logger) LoggerFactory.getLogger(ClientSession.class);
  private static Level savedLevel;

  @BeforeAll
  static void quietSessionLog() {
    // 100 000 "closing connection" warnings would only slow the test down.
    savedLevel = sessionLogger.getLevel();
    sessionLogger.setLevel(Level.ERROR);
  }

  @AfterAll
  static void restoreSessionLog() {
    sessionLogger.setLevel(savedLevel);
  }

  /** One sample of every message class in the tag table. */
  static List<Message> samples() {
    byte[] bytes = new byte[48];
    new Random(1).nextBytes(bytes);
    return List.of(
        new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "fuzz client"),
        new Session.Ping(0x0102030405060708L),
        new Session.HelloOk(ProtocolVersion.CURRENT, "0.1.0"),
        new Session.HelloRejected(ProtocolVersion.CURRENT, "bad session token"),
        new Session.Pong(-1),
        new Session.AgentLog(Session.AgentLog.Level.WARN, "careful"),
        new Target.TargetInfoRequest(1),
        new Target.EnvRequest(2),
        new Target.TargetInfo(1, 4242, 4026531840L, "pod-x", List.of("10.0.0.7", "fd00::7")),
        new Target.EnvResponse(2, RemoteResult.ok(Map.of("A", "b=c", "EMPTY", ""))),
        new Target.EnvResponse(3, RemoteResult.err(new ResponseError.RemoteIo(13, "denied"))),
        new Target.ResolverFilesRequest(4),
        new Target.ResolverFiles(4, RemoteResult.ok(Payload.copyOf(bytes)),
            RemoteResult.err(new ResponseError.NotFound("/etc/hosts"))),
        new Tcp.PortSubscribe(8080, IncomingMode.STEAL),
        new Tcp.PortUnsubscribe(8080),
        new Tcp.PortSubscribeResult(80, RemoteResult.ok(80)),
        new Tcp.PortSubscribeResult(81, RemoteResult.err(new ResponseError.PortAlreadyStolen(81))),
        new Tcp.NewConnection(9, IncomingMode.MIRROR, 80, "10.0.0.1", 5555, "10.0.0.2", 80),
        new Tcp.IncomingPeer(40000, "10.0.0.1", 5555),
        new Tcp.Data(9, Payload.copyOf(bytes)),
        new Tcp.Shutdown(9),
        new Tcp.Close(9, true),
        new Tcp.Flow(9, false),
        new Dns.LookupRequest(10, "postgres", Dns.ANY),
        new Outgoing.ConnectRequest(12, Outgoing.Protocol.TCP, "198.18.0.20", 5432, 0),
        new Outgoing.ConnectResponse(12, RemoteResult.ok(
            new Outgoing.Connected(Outgoing.ID_BIT | 3, "198.18.0.10", 40000))),
        new Dns.LookupResponse(10, RemoteResult.ok(List.of("198.18.0.20", "fd00::20"))),
        new Dns.LookupResponse(11, RemoteResult.err(new ResponseError.NotFound("nope"))),
        new dev.mirrord.jvm.protocol.Http.SubscribeFiltered(8080, IncomingMode.STEAL,
            new dev.mirrord.jvm.protocol.Http.Filter.AnyOf(List.of(
                new dev.mirrord.jvm.protocol.Http.Filter.Header("x-dev: a"),
                new dev.mirrord.jvm.protocol.Http.Filter.Path("^/x")))),
        new dev.mirrord.jvm.protocol.Http.Response(Tcp.STEAL_ID_BIT | 4, dev.mirrord.jvm.protocol.Http.HTTP_1_1, 200,
            "OK", List.of(new dev.mirrord.jvm.protocol.Http.Header("Content-Length", "0")), true),
        new dev.mirrord.jvm.protocol.Http.BodyEnd(Tcp.STEAL_ID_BIT | 4,
            List.of(new dev.mirrord.jvm.protocol.Http.Header("grpc-status", "0"))),
        new dev.mirrord.jvm.protocol.Http.Request(Tcp.STEAL_ID_BIT | 4, Tcp.STEAL_ID_BIT | 3, 8080, "10.0.0.1", 5555,
            dev.mirrord.jvm.protocol.Http.HTTP_1_1, "GET", "/x", List.of(), true),
        new Tcp.PortSubscribeResult(82, RemoteResult.err(new ResponseError.PortConflict(82, "taken"))));
  }

  private static byte[] body(Message m) {
    ByteBuf b = Unpooled.buffer();
    try {
      MessageCodec.encode(m, b);
      return ByteBufUtil.getBytes(b);
    } finally {
      b.release();
    }
  }

  private static byte[] frame(int length, byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(length).put(body).array();
  }

  private static byte[] frame(byte[] body) {
    return frame(body.length, body);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] randomBytes(Random rnd, int max) {
    byte[] b = new byte[rnd.nextInt(max + 1)];
    rnd.nextBytes(b);
    return b;
  }

  /** Random bytes whose first four, read as a length, exceed MAX_FRAME. */
  private static byte[] randomGarbage(Random rnd) {
    byte[] b = new byte[4 + rnd.nextInt(4000)];
    rnd.nextBytes(b);
    b[0] |= 0x10;
    return b;
  }

  /**
   * Every buffer the pipeline allocates comes from one of these, and so do the input pieces. Their
   * metrics count live bytes exactly: zero after each input means nothing was leaked, without
   * waiting for the GC. Heap buffers are cheap but unseen by Netty's leak detector; every {@value
   * #TRACKED_EVERY}th input uses direct buffers, which the paranoid detector tracks (it is too slow
   * for all of them).
   */
  private final UnpooledByteBufAllocator heap = new UnpooledByteBufAllocator(false);

  private final UnpooledByteBufAllocator direct = new UnpooledByteBufAllocator(true);

  private static final int TRACKED_EVERY = 100;

  private final AtomicInteger dispatched = new AtomicInteger();

  private static long used(UnpooledByteBufAllocator alloc) {
    return alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory();
  }

  private EmbeddedChannel agentChannel() {
    return agentChannel(heap);
  }

  private EmbeddedChannel agentChannel(UnpooledByteBufAllocator alloc) {
    // Blocking work (file reads for TargetInfo/Env) is counted, not run: this test is about bytes.
    SessionContext ctx =
        new SessionContext(
            TOKEN,
            "fuzz",
            TargetProcess.of(1),
            r -> dispatched.incrementAndGet(),
            SessionListener.NONE);
    return new EmbeddedChannel(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.config().setAllocator(alloc);
            ProtocolPipeline.install(ch.pipeline(), Side.AGENT, new ClientSession(ctx));
          }
        });
  }

  private record Outcome(boolean closed, long peakBytes) {}

  /** Feeds {@code input} in random pieces, stopping once the agent closes. */
  private Outcome feed(byte[] input, Random rnd, UnpooledByteBufAllocator alloc) {
    EmbeddedChannel ch = agentChannel(alloc);
    long peak = 0;
    int offset = 0;
    // Half the inputs arrive whole, the others in random pieces of up to 64 bytes.
    int maxPiece = rnd.nextBoolean() ? Integer.MAX_VALUE : 1 + rnd.nextInt(64);
    while (offset < input.length && ch.isOpen()) {
      int n = 1 + rnd.nextInt(Math.min(input.length - offset, maxPiece));
      ByteBuf piece = alloc.buffer(n).writeBytes(input, offset, n);
      offset += n;
      ch.writeInbound(piece); // throws if anything reached the tail of the pipeline
      peak = Math.max(peak, used(alloc));
    }
    ch.checkException();
    boolean closed = !ch.isOpen();
    ch.finishAndReleaseAll();
    ch.checkException();
    return new Outcome(closed, peak);
  }

  private static byte[] mutate(Mutation mutation, Message sample, Random rnd) {
    byte[] body = body(sample);
    switch (mutation) {
      case BIT_FLIP -> {
        byte[] f = frame(body);
        for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
          int bit = rnd.nextInt(f.length * 8);
          f[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return f;
      }
      case TRUNCATE -> {
        byte[] f = frame(body);
        return Arrays.copyOf(f, rnd.nextInt(f.length));
      }
      case SHORT_BODY -> {
        return frame(Arrays.copyOf(body, rnd.nextInt(body.length)));
      }
      case TRAILING_BYTES -> {
        byte[] junk = new byte[1 + rnd.nextInt(16)];
        rnd.nextBytes(junk);
        return frame(concat(body, junk));
      }
      case LENGTH_LIE -> {
        int lie =
            switch (rnd.nextInt(4)) {
              case 0 -> rnd.nextInt(body.length + 1);
              case 1 -> body.length + 1 + rnd.nextInt(64);
              case 2 -> rnd.nextInt(ProtocolPipeline.MAX_FRAME);
              default -> rnd.nextInt();
            };
        return frame(lie, body);
      }
      case OVERSIZE_LENGTH -> {
        long huge =
            ProtocolPipeline.MAX_FRAME
                + 1L
                + (long) (rnd.nextDouble() * (0xffffffffL - ProtocolPipeline.MAX_FRAME - 1));
        if (rnd.nextInt(8) == 0) {
          huge = rnd.nextBoolean() ? 0x7fffffffL : 0xffffffffL;
        }
        return frame((int) huge, body);
      }
      case UNKNOWN_TAG -> {
        int tag;
        do {
          tag = rnd.nextInt(0x10000);
        } while (WireTags.forTag(tag) != null);
        byte[] b = concat(new byte[] {(byte) (tag >> 8), (byte) tag}, randomBytes(rnd, 40));
        return frame(b);
      }
      case WRONG_DIRECTION -> {
        throw new IllegalArgumentException("handled by the caller");
      }
      case RANDOM_TAG -> {
        List<Integer> tags = new ArrayList<>(WireTags.all().keySet());
        int tag = tags.get(rnd.nextInt(tags.size()));
        return frame(concat(new byte[] {(byte) (tag >> 8), (byte) tag}, randomBytes(rnd, 40)));
      }
      case RANDOM_BYTES -> {
        return randomBytes(rnd, 200);
      }
    }
    throw new AssertionError(mutation);
  }

  @Test
  void everyWireTagHasASample() {
    List<Class<?>> sampled = samples().stream().<Class<?>>map(Object::getClass).toList();
    for (WireTags.Entry<?> e : WireTags.all().values()) {
      assertThat(sampled).as("sample for tag 0x%04x", e.tag()).contains(e.type());
    }
  }

  @Test
  @Timeout(60)
  void randomAndMutatedFramesNeverEscapeLeakOrStayOpenOnGarbage() throws Exception {
    assertThat(LeakCounter.countsByteBufLeaks())
        .as("LeakCounter is installed before ByteBuf's leak detector is created")
        .isTrue();
    Random rnd = new Random(SEED);
    List<Message> samples = samples();
    List<Message> agentOnly =
        samples.stream().filter(m -> !WireTags.forType(m.getClass()).clientToAgent()).toList();
    byte[] hello = frame(body(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "fuzz")));
    Map<Mutation, int[]> stats = new EnumMap<>(Mutation.class); // {inputs, closed}
    Mutation[] mutations = Mutation.values();

    for (int i = 0; i < INPUTS; i++) {
      Mutation mutation = mutations[i % mutations.length];
      byte[] garbage =
          mutation == Mutation.WRONG_DIRECTION
              ? frame(body(agentOnly.get(rnd.nextInt(agentOnly.size()))))
              : mutate(mutation, samples.get(rnd.nextInt(samples.size())), rnd);
      // Half the inputs come after a good handshake, to reach the established session's paths.
      byte[] input = rnd.nextBoolean() ? concat(hello, garbage) : garbage;
      int index = i;
      // Built only when an assertion fails.
      Supplier<String> where =
          () ->
              "seed "
                  + SEED
                  + ", input "
                  + index
                  + " ("
                  + mutation
                  + "): "
                  + HexFormat.of().formatHex(input, 0, Math.min(input.length, 96));

      UnpooledByteBufAllocator alloc = i % TRACKED_EVERY == 0 ? direct : heap;
      Outcome outcome;
      try {
        outcome = feed(input, rnd, alloc);
      } catch (Throwable t) {
        throw new AssertionError("exception escaped the pipeline at " + where.get(), t);
      }
      if (mutation.mustClose) {
        assertThat(outcome.closed()).as(() -> "closed after garbage at " + where.get()).isTrue();
      }
      assertThat(used(alloc)).as(() -> "bytes still held at " + where.get()).isZero();
      assertThat(outcome.peakBytes())
          .as(() -> "memory bounded by the input at " + where.get())
          .isLessThanOrEqualTo(2L * input.length + 4096);
      int[] s = stats.computeIfAbsent(mutation, m -> new int[2]);
      s[0]++;
      s[1] += outcome.closed() ? 1 : 0;
    }

    StringBuilder summary = new StringBuilder("fuzz seed " + SEED + ":");
    stats.forEach(
        (m, s) ->
            summary
                .append(' ')
                .append(m)
                .append('=')
                .append(s[1])
                .append('/')
                .append(s[0])
                .append(" closed"));
    System.out.println(summary);
    assertThat(stats.values().stream().mapToInt(s -> s[0]).sum()).isEqualTo(INPUTS);
    assertThat(LeakCounter.collect()).as("leak reports").isEmpty();
  }

  @Test
  void oversizeLengthHeaderIsRejectedWithoutBuffering() throws Exception {
    for (long claimed : new long[] {ProtocolPipeline.MAX_FRAME + 1L, 0x7fffffffL, 0xffffffffL}) {
      EmbeddedChannel ch = agentChannel(direct);
      ch.writeInbound(direct.buffer(4).writeInt((int) claimed));
      // Rejected on the header alone: nothing of the claimed body is ever waited for or held.
      assertThat(ch.isOpen()).as("closed on length %d", claimed).isFalse();
      assertThat(used(direct)).as("bytes held for length %d", claimed).isLessThanOrEqualTo(64);
      ch.checkException();
      ch.finishAndReleaseAll();
      assertThat(used(direct)).isZero();
    }
    // The largest legal header, by contrast, is accepted: the agent waits for its body.
    EmbeddedChannel ch = agentChannel(direct);
    ch.writeInbound(direct.buffer(4).writeInt(ProtocolPipeline.MAX_FRAME - 4));
    assertThat(ch.isOpen()).isTrue();
    ch.finishAndReleaseAll();
    assertThat(used(direct)).isZero();
  }

  @Test
  @Timeout(30)
  void garbageClientIsDroppedWhileAWellBehavedClientKeepsGettingPongs() throws Exception {
    SessionContext ctx =
        new SessionContext(TOKEN, "fuzz", TargetProcess.of(1), Runnable::run, SessionListener.NONE);
    try (AgentServer server = AgentServer.start(new ListenAddress.Tcp("127.0.0.1", 0), ctx);
        TestClient good = TestClient.connect(server.boundAddress().socketAddress())) {
      good.handshake(TOKEN);
      assertThat(good.ping(1)).isEqualTo(1);
      Random rnd = new Random(SEED);
      List<byte[]> garbage =
          List.of(
              frame(0x7fffffff, new byte[16]),
              frame(new byte[] {0x7a, (byte) 0xbc, 1, 2, 3}),
              frame(body(new Session.Ping(5))), // valid, but before Hello
              concat(
                  frame(body(new Session.Hello(ProtocolVersion.CURRENT, TOKEN, "g"))),
                  frame(body(new Session.Pong(1)))), // wrong direction after a good handshake
              randomGarbage(rnd));
      long nonce = 2;
      for (byte[] bytes : garbage) {
        InetSocketAddress address = (InetSocketAddress) server.boundAddress().socketAddress();
        try (Socket bad = new Socket(address.getAddress(), address.getPort())) {
          bad.setSoTimeout(10_000);
          OutputStream out = bad.getOutputStream();
          out.write(bytes);
          out.flush();
          // Whatever the agent answers (HelloOk for one of them), it then hangs up.
          bad.getInputStream().readAllBytes();
        } catch (java.net.SocketException reset) {
          // A reset is a hang-up too.
        }
        assertThat(good.ping(nonce)).isEqualTo(nonce);
        nonce++;
      }
    }
    assertThat(LeakCounter.collect()).as("leak reports").isEmpty();
  }
}
