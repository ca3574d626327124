package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.MessageCodec;
import dev.mirrord.jvm.protocol.codec.ProtocolPipeline;
import dev.mirrord.jvm.protocol.codec.Side;
import dev.mirrord.jvm.protocol.codec.StartFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A protocol connection to the CLI that the calling thread drives itself: it writes a {@code
 * ConnectRequest} and waits in its own {@code epoll_wait} for the answer, so an app's connect wakes
 * no layer thread on the way out and none on the way back (the {@link ProxyConnection} path costs
 * a hand-off to the event loop and an unpark back, two cross-CPU wake-ups). Used by one thread at a
 * time ({@link BlockingConnectionPool}).
 *
 * <p>The socket is non-blocking throughout; waits go through a selector of this connection alone,
 * with a deadline. Non-blocking reads and writes are not interruptible, so an interrupted app
 * thread never closes the connection (the JDK closes an interruptible channel on interrupt); it gets
 * an {@link InterruptedIOException}. Frames are the protocol's ({@code u32 length | u16 tag |
 * body}, {@link MessageCodec}); a partial frame stays in the buffer across waits, so a timed-out
 * wait leaves the connection usable: a late answer is recognized by its request id and dropped.
 *
 * <p>Everything the CLI sends on it that answers nothing of this thread's ({@code
 * Tcp.IncomingPeer.forget} of a flow opened here, agent logs) goes to the {@code unsolicited}
 * consumer, when the connection is next used or swept.
 */
final class BlockingProxyConnection implements AutoCloseable {
  private static final int INITIAL_BUFFER = 4096;

  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  /** Bytes read and not yet decoded: {@code [0, position)} (the buffer stays in write mode). */
  private ByteBuffer in = ByteBuffer.allocate(INITIAL_BUFFER);
  /** Loopback ports of TCP flows opened here whose {@code IncomingPeer.forget} has not come yet. */
  private final Set<Integer> openFlows = new HashSet<>();
  private long lastUsedNanos = System.nanoTime();
  private long lastWriteNanos = System.nanoTime();
  private long pingNonces;
  private boolean closed;

  private BlockingProxyConnection(SocketChannel channel, Selector selector) throws IOException {
    this.channel = channel;
    this.selector = selector;
    this.key = channel.register(selector, 0);
  }

  /** The peer name of the connections an app's connects are made on (tagged in the CLI's log). */
  static String connectsPeer(String peer) {
    return peer + " (connects)";
  }

  /**
   * Connects to the CLI at {@code cli} and handshakes with {@code hello}, by {@code deadline} (a
   * {@link System#nanoTime()} value). Call it inside {@code BypassGuard}.
   *
   * @throws IOException no connection or answer in time, {@code HelloRejected}, or a CLI without
   *     the outgoing family
   */
  static BlockingProxyConnection open(InetSocketAddress cli, Session.Hello hello, long deadline)
      throws IOException {
    SocketChannel ch = SocketChannel.open();
    Selector sel = null;
    BlockingProxyConnection c = null;
    try {
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      sel = Selector.open();
      c = new BlockingProxyConnection(ch, sel);
      if (!ch.connect(cli)) {
        while (!ch.finishConnect()) {
          if (!c.await(SelectionKey.OP_CONNECT, deadline)) {
            throw new SocketTimeoutException("no connection to mirrord at " + cli + " in time");
          }
        }
      }
      // The start's frames without a Netty buffer (StartFrames says why): the app's main waits for them.
      c.writeFrame(StartFrames.frame(hello), deadline);
      AgentMessage answer = c.read(deadline, true);
      if (answer == null) {
        throw new SocketTimeoutException("no answer to Hello from mirrord at " + cli + " in time");
      }
      if (answer instanceof Session.HelloRejected r) {
        throw new IOException("mirrord rejected the connection: " + r.reason());
      }
      if (!(answer instanceof Session.HelloOk ok)) {
        throw new IOException("unexpected answer to Hello: " + answer);
      }
      if (ok.negotiated().compareTo(Outgoing.SINCE) < 0) {
        throw new IOException("the mirrord CLI speaks protocol " + ok.negotiated());
      }
      return c;
    } catch (IOException | RuntimeException e) {
      if (c != null) {
        c.close();
      } else {
        closeQuietly(ch, sel);
      }
      throw e;
    }
  }

  /**
   * Sends {@code request} and waits until {@code deadline} for a {@code TargetInfo}; anything else
   * that arrives before it is dropped (only the layer's start asks this way, before anything else
   * can be on its way). Without a Netty buffer, as the {@code Hello} of {@link #open}.
   *
   * @return the answer, or {@code null} if the deadline passed
   */
  Target.TargetInfo targetInfo(Target.TargetInfoRequest request, long deadline) throws IOException {
    writeFrame(StartFrames.frame(request), deadline);
    for (; ; ) {
      AgentMessage m = read(deadline, true);
      if (m == null || m instanceof Target.TargetInfo) {
        return (Target.TargetInfo) m;
      }
    }
  }

  /**
   * Sends {@code request} and waits until {@code deadline} for its answer, handing anything else
   * that arrives to {@code unsolicited}.
   *
   * @throws StaleConnectionException the connection was found closed (or failed) before an answer
   *     came: the request may be retried on another connection; this one is closed
   * @throws SocketTimeoutException no answer by {@code deadline}; the connection stays usable
   * @throws InterruptedIOException the thread is interrupted; the connection stays usable
   */
  Outgoing.ConnectResponse connect(
      Outgoing.ConnectRequest request, long deadline, Consumer<? super AgentMessage> unsolicited)
      throws IOException {
    lastUsedNanos = System.nanoTime();
    try {
      drain(unsolicited);
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException("interrupted while connecting through mirrord");
      }
      write(request, deadline);
      for (; ; ) {
        AgentMessage m = read(deadline, false);
        if (m == null) {
          throw new SocketTimeoutException("no answer from mirrord in time");
        }
        if (m instanceof Outgoing.ConnectResponse r && r.requestId() == request.requestId()) {
          if (r.result().isOk()) {
            openFlows.add(r.result().value().localPort());
          }
          return r;
        }
        route(m, unsolicited);
      }
    } catch (InterruptedIOException e) { // SocketTimeoutException too
      throw e;
    } catch (IOException | RuntimeException e) {
      close();
      throw new StaleConnectionException(e);
    }
  }

  /**
   * Sends {@code request} and waits until {@code deadline} for its {@code PortSubscribeResult},
   * handing anything else that arrives to {@code unsolicited} (the layer's start connection
   * subscribes a port this way while the main connection is still coming up: {@link
   * ConnectionStart#subscribeOnStart}).
   *
   * @return the answer, or {@code null} if the deadline passed (the connection stays usable)
   * @throws IOException the connection failed or the CLI closed it
   */
  Tcp.PortSubscribeResult portSubscribe(
      Tcp.PortSubscribe request, long deadline, Consumer<? super AgentMessage> unsolicited) throws IOException {
    lastUsedNanos = System.nanoTime();
    drain(unsolicited);
    write(request, deadline);
    for (; ; ) {
      AgentMessage m = read(deadline, false);
      if (m == null) {
        return null;
      }
      if (m instanceof Tcp.PortSubscribeResult r && r.port() == request.port()) {
        return r;
      }
      route(m, unsolicited);
    }
  }

  /** Sends {@code m}, which has no answer, by {@code deadline}. */
  void send(ClientMessage m, long deadline) throws IOException {
    write(m, deadline);
  }

  /**
   * Reads and dispatches what the CLI sent since the last use, without waiting.
   *
   * @throws IOException the CLI closed the connection, or it failed (the caller closes it)
   */
  void drain(Consumer<? super AgentMessage> unsolicited) throws IOException {
    for (; ; ) {
      int length = frameLength();
      if (length >= 0) {
        AgentMessage m = decode(length);
        dropFrame(length);
        route(m, unsolicited);
        continue;
      }
      int n = channel.read(in);
      if (n < 0) {
        throw new EOFException("the mirrord CLI closed the connection");
      }
      if (n == 0) {
        return;
      }
      ensureRoom();
    }
  }

  /** Sends a {@code Ping} if nothing was written for {@code idleNanos} (a few bytes: never waits). */
  void pingIfIdle(long idleNanos) throws IOException {
    if (System.nanoTime() - lastWriteNanos >= idleNanos) {
      write(new Session.Ping(++pingNonces), System.nanoTime());
    }
  }

  /** Nanoseconds since the last {@link #connect}. */
  long unusedNanos() {
    return System.nanoTime() - lastUsedNanos;
  }

  /** Whether a flow opened here still waits for its {@code IncomingPeer.forget}. */
  boolean hasOpenFlows() {
    return !openFlows.isEmpty();
  }

  boolean isOpen() {
    return !closed && channel.isOpen();
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(channel, selector);
  }

  private void route(AgentMessage m, Consumer<? super AgentMessage> unsolicited) {
    if (m instanceof Session.Pong || m instanceof Outgoing.ConnectResponse || m instanceof Tcp.PortSubscribeResult) {
      return; // our keep-alive, or the late answer to a connect or a subscription that timed out
    }
    if (m instanceof Tcp.IncomingPeer p && p.sourcePort() == 0) {
      openFlows.remove(p.localPort());
    }
    unsolicited.accept(m);
  }

  private void write(ClientMessage m, long deadline) throws IOException {
    ByteBuf frame = Unpooled.buffer(64);
    frame.writeInt(0);
    MessageCodec.encode(m, frame);
    frame.setInt(0, frame.readableBytes() - 4);
    writeFrame(frame.nioBuffer(), deadline);
  }

  /** Writes the whole frame {@code out} by {@code deadline}. */
  private void writeFrame(ByteBuffer out, long deadline) throws IOException {
    channel.write(out);
    try {
      while (out.hasRemaining()) {
        if (!await(SelectionKey.OP_WRITE, deadline)) {
          throw new SocketTimeoutException("cannot write to mirrord in time");
        }
        channel.write(out);
      }
    } catch (InterruptedIOException e) {
      // Part of a frame is written: the stream cannot be resumed by anyone else.
      close();
      throw new IOException("interrupted in the middle of a frame", e);
    }
    lastWriteNanos = System.nanoTime();
  }

  /**
   * The next message, waiting until {@code deadline}; {@code null} when the deadline passed. With
   * {@code start}, only the start's answers ({@link StartFrames#readToLayer}), read without a Netty
   * buffer; any other frame is dropped.
   */
  private AgentMessage read(long deadline, boolean start) throws IOException {
    for (; ; ) {
      int length = frameLength();
      if (length >= 0) {
        AgentMessage m = start ? StartFrames.readToLayer(ByteBuffer.wrap(in.array(), 4, length)) : decode(length);
        dropFrame(length);
        if (m != null) {
          return m;
        }
        continue;
      }
      int n = channel.read(in);
      if (n < 0) {
        throw new EOFException("the mirrord CLI closed the connection");
      }
      if (n == 0 && !await(SelectionKey.OP_READ, deadline)) {
        return null;
      }
      ensureRoom();
    }
  }

  /** Decodes the buffered frame of {@code length} bytes ({@link #frameLength}) in place. */
  private AgentMessage decode(int length) {
    return (AgentMessage) MessageCodec.decode(Unpooled.wrappedBuffer(in.array(), 4, length), Side.CLIENT);
  }

  /**
   * The length of the first buffered frame ({@code u16 tag | body}, after its {@code u32} length) if
   * it is whole, or -1 if it is not yet; read it from {@code in}'s array at offset 4, then {@link
   * #dropFrame}.
   */
  private int frameLength() throws IOException {
    if (in.position() < 4) {
      return -1;
    }
    int length = in.getInt(0);
    if (length < 2 || length > ProtocolPipeline.MAX_FRAME) {
      throw new IOException("bad frame length " + length + " from the mirrord CLI");
    }
    if (in.position() < 4 + length) {
      if (in.capacity() < 4 + length) {
        ByteBuffer bigger = ByteBuffer.allocate(4 + length);
        in.flip();
        bigger.put(in);
        in = bigger;
      }
      return -1;
    }
    return length;
  }

  /** Removes the first buffered frame, of {@code length} bytes after its length prefix. */
  private void dropFrame(int length) {
    in.flip();
    in.position(4 + length);
    in.compact();
  }

  private void ensureRoom() {
    if (!in.hasRemaining()) {
      ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
      in.flip();
      bigger.put(in);
      in = bigger;
    }
  }

  /**
   * Waits for {@code ops} until {@code deadline}.
   *
   * @return false if the deadline passed
   */
  private boolean await(int ops, long deadline) throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      return false;
    }
    if (key.interestOps() != ops) {
      key.interestOps(ops);
    }
    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
    selector.selectedKeys().clear();
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted while connecting through mirrord");
    }
    return true;
  }

  private static void closeQuietly(SocketChannel ch, Selector sel) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    if (sel != null) {
      try {
        sel.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /** The connection was closed or failed before the answer came; it is closed now. */
  static final class StaleConnectionException extends IOException {
    private static final long serialVersionUID = 1L;

    StaleConnectionException(Throwable cause) {
      super(ProxyConnection.describe(cause), cause);
    }
  }
}
