package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.Map;

/**
 * Runs the codec's first messages once on a thread of its own while the process starts, so that
 * the first real handshake does not pay for it: the tag table's set-up ({@link WireTags}: a
 * reader and a writer per message, checked against the sealed hierarchies by reflection), the
 * pipeline's handler classes and the first run of their code: the handshake's messages go through
 * a client's and an agent's whole pipeline (allocator, framing, flush consolidation). Without the
 * pipeline part the CLI's first {@code Hello} still took 80–170 ms from the connection's start to
 * its write; with it 2–7 ms. It first initializes the JDK's unix-domain sockets (and with them the
 * security providers) and Netty's {@code NetUtil}, and last {@code
 * DefaultChannelId} (the machine id from the network interfaces). The CLI and the agent start it
 * first thing in {@code main}, beside picocli's parsing (after SLF4J's start: started by two threads
 * at once, SLF4J prints a warning on stderr).
 * Before the warm-up existed, the first {@code Hello} took 0.4–0.7 s on a loaded 2-core machine on
 * each side. Nothing here can fail a start: it is only a warm-up.
 */
public final class CodecWarmUp {
  private CodecWarmUp() {}

  private static final java.util.concurrent.atomic.AtomicBoolean STARTED = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Starts the warm-up on a daemon thread, once per process; returns at once.
   *
   * @return whether this call started it (false: an earlier call did)
   */
  public static boolean startInBackground() {
    if (!STARTED.compareAndSet(false, true)) {
      return false;
    }
    dev.mirrord.jvm.protocol.jvm.WarmUps.start("mirrord-codec-warm-up", () -> run());
    return true;
  }

  /** The warm-up itself; false if a step failed (the real connection will then meet it). */
  static boolean run() {
    try {
      // The JDK's unix-domain sockets (the CLI's connection to a local agent, the agent's listening socket): their
      // class initializer makes a SecureRandom, the security providers' first start (15-20 ms of a cold JVM), which
      // the CLI's session directory also needs for its token.
      try {
        java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX).close();
      } catch (java.io.IOException | UnsupportedOperationException e) {
        // no unix-domain sockets here: nothing to warm up
      }
      // Netty's NetUtil (loopback interface, somaxconn): 60-100 ms of a cold JVM, needed by every
      // socket of the connection and by the agent's resolver-file parsing
      Class.forName("io.netty.util.NetUtil", true, CodecWarmUp.class.getClassLoader());
      List<Message> toAgent =
          List.of(
              new Session.Hello(ProtocolVersion.CURRENT, "warm-up", "warm-up"),
              new Target.TargetInfoRequest(1),
              new Target.EnvRequest(2));
      List<Message> fromAgent =
          List.of(
              new Session.HelloOk(ProtocolVersion.CURRENT, "warm-up"),
              new Target.TargetInfo(1, 1, 1, "warm-up", List.of("127.0.0.1")),
              new Target.EnvResponse(2, RemoteResult.ok(Map.of("WARM", "UP"))));
      // through the connection's whole pipeline on both ends (codec, allocator, framing, flush
      // consolidation, idle timer), as the real handshake sends them
      EmbeddedChannel client = new EmbeddedChannel();
      EmbeddedChannel agent = new EmbeddedChannel();
      try {
        ProtocolPipeline.installRelaying(client.pipeline(), Side.CLIENT, new ChannelInboundHandlerAdapter());
        ProtocolPipeline.installRelaying(agent.pipeline(), Side.AGENT, new ChannelInboundHandlerAdapter());
        pass(client, agent, toAgent);
        pass(agent, client, fromAgent);
      } finally {
        client.finishAndReleaseAll();
        agent.finishAndReleaseAll();
      }
      // the real channels' ids: DefaultChannelId's machine id (the network interfaces' MAC addresses), which an
      // embedded channel does not need
      io.netty.channel.DefaultChannelId.newInstance();
      return true;
    } catch (RuntimeException | LinkageError | ClassNotFoundException e) {
      return false; // only a warm-up: the real connection meets the same problem and reports it
    }
  }

  /** Writes {@code messages} on {@code from} and hands the bytes it sends to {@code to}. */
  private static void pass(EmbeddedChannel from, EmbeddedChannel to, List<Message> messages) {
    for (Message m : messages) {
      from.writeAndFlush(m);
    }
    for (Object out; (out = from.readOutbound()) != null; ) {
      to.writeInbound(out);
    }
    int received = 0;
    for (Object in; (in = to.readInbound()) != null; received++) {
      io.netty.util.ReferenceCountUtil.release(in);
    }
    if (received != messages.size()) {
      throw new IllegalStateException(received + " of " + messages.size() + " messages came through");
    }
  }
}
