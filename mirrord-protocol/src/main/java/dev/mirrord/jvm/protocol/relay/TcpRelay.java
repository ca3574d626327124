package dev.mirrord.jvm.protocol.relay;

import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.util.ArrayDeque;

/**
 * One TCP socket relayed over a protocol connection under one connection id, both ways: the
 * socket's bytes become {@code Tcp.Data} (at most {@link Tcp#MAX_CHUNK} each), its FIN {@code
 * Tcp.Shutdown}, its end {@code Tcp.Close} (reset on an error); the peer's messages are applied to
 * the socket in order. Back-pressure both ways: the socket is read only while the peer's connection
 * is writable and the peer has not paused this id ({@code Tcp.Flow}); when the socket cannot take
 * more, the peer is told to pause.
 *
 * <p>Used by the agent for stolen and outgoing connections and by the CLI for outgoing ones. Add it
 * to the socket's pipeline (the socket should start with auto-read off) and call {@link #attach}
 * once it is connected; messages from the peer that arrive before are kept, and past {@link
 * #EARLY_PAUSE_BYTES} the peer is paused. Every method runs on the socket's event loop (before
 * {@code attach}, on the loop that will attach).
 */
public class TcpRelay extends ChannelInboundHandlerAdapter {
  /** Bytes from the peer kept before the socket is attached, past which the peer is paused. */
  public static final int EARLY_PAUSE_BYTES = 4 * 1024 * 1024;

  /** The other side of the protocol connection. */
  public interface Peer {
    /** Sends a message to the peer; any thread. */
    void send(Message message);

    /** Whether the protocol connection to the peer can take more now. */
    boolean writable();

    /**
     * Sends {@code Tcp.Data(id, bytes)}; takes ownership of {@code bytes}. Peers that own a
     * protocol channel write it with {@code MessageCodec.writeData} (no copy); this default copies
     * the bytes into a message.
     */
    default void sendData(long id, ByteBuf bytes) {
      send(copiedData(id, bytes));
    }
  }

  /** {@code Tcp.Data(id, <a copy of bytes>)}; releases {@code bytes}. */
  public static Tcp.Data copiedData(long id, ByteBuf bytes) {
    try {
      return new Tcp.Data(id, Payload.wrap(io.netty.buffer.ByteBufUtil.getBytes(bytes)));
    } finally {
      bytes.release();
    }
  }

  private final long id;
  private final Peer peer;
  private Channel channel;
  private boolean attached;
  private boolean pausedByPeer;
  private boolean pausedEarly;
  private boolean closeSent;
  private boolean ended;
  private final ArrayDeque<Object> early = new ArrayDeque<>();
  private long earlyBytes;

  public TcpRelay(long id, Peer peer) {
    this.id = id;
    this.peer = peer;
  }

  public final long id() {
    return id;
  }

  /** The socket, or {@code null} before {@link #attach}. */
  public final Channel channel() {
    return channel;
  }

  /** The socket is connected: apply what the peer sent so far and start reading. */
  public final void attach(Channel socket) {
    channel = socket;
    socket.config().setRecvByteBufAllocator(dev.mirrord.jvm.protocol.codec.ProtocolPipeline.RECV_ALLOCATOR);
    attached = true;
    Object m;
    while ((m = early.poll()) != null) {
      apply(m);
    }
    if (pausedEarly) {
      pausedEarly = false;
      if (socket.isWritable()) {
        peer.send(new Tcp.Flow(id, false));
      } // else: channelWritabilityChanged resumes the peer once the socket drains
    }
    updateAutoRead();
  }

  /**
   * A {@code Tcp.Data/Shutdown/Close/Flow} or a {@link DataFrame} from the peer for this id; takes
   * ownership of a {@code DataFrame}.
   */
  public final void fromPeer(Object m) {
    if (ended) {
      DataFrame.discard(m); // the socket is gone (or never came)
      return;
    }
    if (!attached) {
      early.add(m);
      int size = DataFrame.dataSize(m);
      if (size > 0) {
        earlyBytes += size;
        if (earlyBytes > EARLY_PAUSE_BYTES && !pausedEarly) {
          pausedEarly = true;
          peer.send(new Tcp.Flow(id, true));
        }
      }
      return;
    }
    apply(m);
  }

  /** Reads the socket if the peer can take it; call when the peer's writability changed. */
  public final void updateAutoRead() {
    Channel ch = channel;
    if (attached && ch.isActive()) {
      boolean read = !pausedByPeer && peer.writable();
      ch.config().setAutoRead(read);
      if (read) {
        ch.read();
      }
    }
  }

  /** The peer is gone: close the socket without telling it. */
  public final void abandon() {
    closeSent = true;
    if (channel != null) {
      channel.close();
    }
    end();
  }

  /** Runs once when this relay ends, whichever side ended it (e.g. to forget it). */
  protected void ended() {}

  private void end() {
    if (!ended) {
      ended = true;
      early.forEach(DataFrame::discard);
      early.clear();
      ended();
    }
  }

  private void apply(Object m) {
    Channel ch = channel;
    if (DataFrame.isData(m)) {
      ch.writeAndFlush(DataFrame.bytesOf(m));
    } else if (m instanceof Tcp.Shutdown) {
      // shutdownOutput fails writes still queued: wait for the data sent before it.
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
        if (ch.isActive() && ch instanceof SocketChannel sc) {
          sc.shutdownOutput();
        }
      });
    } else if (m instanceof Tcp.Close c) {
      closeSent = true;
      end();
      if (c.reset()) {
        if (ch.isActive()) {
          ch.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        ch.close();
      } else {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ch.close());
      }
    } else if (m instanceof Tcp.Flow f) {
      pausedByPeer = f.paused();
      updateAutoRead();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      while (buf.isReadable()) {
        peer.sendData(id, buf.readRetainedSlice(Math.min(buf.readableBytes(), Tcp.MAX_CHUNK)));
      }
    } finally {
      buf.release();
    }
    if (!peer.writable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    peer.send(new Tcp.Flow(id, !ctx.channel().isWritable()));
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      peer.send(new Tcp.Shutdown(id));
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!closeSent) {
      closeSent = true;
      peer.send(new Tcp.Close(id, false));
    }
    end();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!closeSent) {
      closeSent = true;
      peer.send(new Tcp.Close(id, true));
    }
    end();
    ctx.close();
  }
}
