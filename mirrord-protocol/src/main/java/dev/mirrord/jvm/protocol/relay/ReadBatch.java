package dev.mirrord.jvm.protocol.relay;

import io.netty.channel.Channel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;

/**
 * Flushes of relayed sockets deferred to the end of the protocol connection's read batch.
 *
 * <p>One HTTP answer crosses the protocol connection as several messages ({@code Http.Response},
 * {@code Tcp.Data}, {@code Http.BodyEnd}; an h2c request as its headers, data and end). Flushing the
 * target's (or app's) socket after each one wrote it in as many system calls, and woke the peer
 * that many times. While a protocol connection's session handler dispatches a read batch ({@link
 * #begin} in its {@code channelRead}, {@link #end} in its {@code channelReadComplete}), a relay that
 * asks for a flush of a socket on the same thread ({@link #flush}) gets it once, at the end of the
 * batch, for everything the batch wrote to that socket. Outside a batch, {@link #flush} flushes at
 * once. Order is kept: writes still go into the socket's outbound buffer as they come, and any
 * direct {@code flush} or {@code writeAndFlush} (a close, a shutdown) flushes them all. Writability
 * (back-pressure) counts written bytes, flushed or not, so it is the same as before.
 *
 * <p>Per thread: a protocol connection and the sockets it relays live on one event loop, and an
 * event loop dispatches one connection's read batch at a time.
 */
public final class ReadBatch {
  private static final FastThreadLocal<ReadBatch> CURRENT =
      new FastThreadLocal<>() {
        @Override
        protected ReadBatch initialValue() {
          return new ReadBatch();
        }
      };

  /** The sockets to flush at the end of the batch, each once, in the order first asked. */
  private final ArrayList<Channel> pending = new ArrayList<>();

  private boolean active;

  private ReadBatch() {}

  /** A protocol connection starts (or goes on with) dispatching a read batch on this thread. */
  public static void begin() {
    CURRENT.get().active = true;
  }

  /** The batch ended (read complete, or the connection went): flushes what it deferred. */
  public static void end() {
    if (!CURRENT.isSet()) {
      return;
    }
    ReadBatch b = CURRENT.get();
    b.active = false;
    if (b.pending.isEmpty()) {
      return;
    }
    // a flush may run handlers that write and flush again: those go out at once (active is false)
    Channel[] channels = b.pending.toArray(new Channel[0]);
    b.pending.clear();
    for (Channel ch : channels) {
      ch.flush();
    }
  }

  /** Flushes {@code ch} now, or at the end of the read batch this thread is dispatching. */
  public static void flush(Channel ch) {
    if (ch.eventLoop().inEventLoop()) {
      ReadBatch b = CURRENT.get();
      if (b.active) {
        if (!b.pending.contains(ch)) {
          b.pending.add(ch);
        }
        return;
      }
    }
    ch.flush();
  }

  /** Whether a batch is being dispatched on this thread (tests). */
  static boolean active() {
    return CURRENT.isSet() && CURRENT.get().active;
  }
}
