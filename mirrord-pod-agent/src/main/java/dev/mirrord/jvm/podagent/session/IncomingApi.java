package dev.mirrord.jvm.podagent.session;

import dev.mirrord.jvm.podagent.incoming.IncomingTasks;
import dev.mirrord.jvm.podagent.sniffer.FlowKey;
import dev.mirrord.jvm.podagent.sniffer.SnifferSubscriber;
import dev.mirrord.jvm.podagent.sniffer.TcpSniffer;
import dev.mirrord.jvm.podagent.stealer.StealClient;
import dev.mirrord.jvm.podagent.stealer.TcpStealer;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.podagent.http.HttpFilterMatcher;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Tcp;
import dev.mirrord.jvm.protocol.codec.DataFrame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's incoming-TCP family. {@code PortSubscribe} in steal mode goes to the shared {@link
 * TcpStealer}, in mirror mode to the shared {@link TcpSniffer}; both run iptables or open sockets,
 * so (un)subscribing happens on the blocking executor, never on the event loop, one task of this
 * client at a time in arrival order ({@link SerialExecutor}). Stolen connections'
 * {@code Data/Shutdown/Close/Flow} go to the stealer; mirrored connections take nothing from the
 * client.
 *
 * <p>Back-pressure: a stolen connection stops reading when this client's channel is not writable;
 * a mirrored one cannot slow the target down, so when more than {@link #MIRROR_BACKLOG_LIMIT} bytes
 * wait for this client, new mirrored data of a connection cuts it ({@code Close(reset)}) instead
 * of buffering without bound.
 */
final class IncomingApi implements StealClient, SnifferSubscriber {
  private static final Logger logger = LoggerFactory.getLogger(IncomingApi.class);

  /** The feature name in {@link ResponseError.NotImplemented}. */
  static final String FEATURE = "incoming traffic (mirror/steal)";

  static final long MIRROR_BACKLOG_LIMIT = 64L * 1024 * 1024;

  private final String peer;
  private final Consumer<AgentMessage> replies;
  private final Supplier<Channel> channel;
  private final IncomingTasks tasks;
  private final Executor blocking;
  private final dev.mirrord.jvm.protocol.ProtocolVersion version;
  private final Set<Integer> mirrored = ConcurrentHashMap.newKeySet();
  /** Mirrored ports with an HTTP filter, and the filter state of their connections (sniffer thread). */
  private final Map<Integer, HttpFilterMatcher> mirrorFilters = new ConcurrentHashMap<>();
  private final Map<Long, FilteredMirror> filteredMirrors = new ConcurrentHashMap<>();

  /** One filtered mirrored connection: announced to the client at its first matched request. */
  private static final class FilteredMirror {
    final dev.mirrord.jvm.podagent.http.MirrorHttpFilter filter;
    final FlowKey flow;
    boolean announced;

    FilteredMirror(HttpFilterMatcher matcher, FlowKey flow) {
      this.filter = new dev.mirrord.jvm.podagent.http.MirrorHttpFilter(matcher);
      this.flow = flow;
    }
  }
  private final Map<Long, Boolean> cutMirrors = new ConcurrentHashMap<>();

  IncomingApi(
      String peer,
      Consumer<AgentMessage> replies,
      Supplier<Channel> channel,
      IncomingTasks tasks,
      Executor blocking) {
    this(peer, replies, channel, tasks, blocking, dev.mirrord.jvm.protocol.ProtocolVersion.CURRENT);
  }

  IncomingApi(
      String peer,
      Consumer<AgentMessage> replies,
      Supplier<Channel> channel,
      IncomingTasks tasks,
      Executor blocking,
      dev.mirrord.jvm.protocol.ProtocolVersion version) {
    this.version = version;
    this.peer = peer;
    this.replies = replies;
    this.channel = channel;
    this.tasks = tasks;
    // one client's (un)subscriptions apply in the order it sent them
    this.blocking = new SerialExecutor(blocking);
  }

  void handle(ClientMessage message) {
    if (message instanceof Tcp.PortSubscribe s) {
      blocking.execute(() -> replies.accept(new Tcp.PortSubscribeResult(s.port(), compatible(subscribe(s)))));
    } else if (message instanceof Http.SubscribeFiltered s) {
      blocking.execute(() -> replies.accept(new Tcp.PortSubscribeResult(s.port(), subscribeFiltered(s))));
    } else if (message instanceof Http.Response || message instanceof Http.BodyEnd) {
      toStealer(message);
    } else if (message instanceof Tcp.PortUnsubscribe u) {
      blocking.execute(() -> unsubscribe(u.port()));
    } else if (message instanceof Tcp.Data
        || message instanceof Tcp.Shutdown
        || message instanceof Tcp.Close
        || message instanceof Tcp.Flow) {
      toStealer(message);
    }
  }

  /** The bytes of a stolen connection ({@code Tcp.Data} as a {@link DataFrame}); takes ownership. */
  void handleData(DataFrame data) {
    toStealer(data);
  }

  /** A stream message or {@link DataFrame} of a stolen connection; dropped (released) when nothing steals. */
  private void toStealer(Object message) {
    (tasks == null ? java.util.Optional.<dev.mirrord.jvm.podagent.stealer.TcpStealer>empty() : tasks.existingStealer())
        .ifPresentOrElse(st -> st.fromClient(this, message), () -> DataFrame.discard(message));
  }

  /** A {@code PortConflict} (since 1.5) becomes {@code PortAlreadyStolen} for older clients. */
  private RemoteResult<Integer> compatible(RemoteResult<Integer> r) {
    if (r instanceof RemoteResult.Err<Integer> err && err.error() instanceof ResponseError.PortConflict c
        && version.compareTo(Http.SINCE) < 0) {
      logger.info("{}: {}", peer, c.message());
      return RemoteResult.err(new ResponseError.PortAlreadyStolen(c.port()));
    }
    return r;
  }

  private RemoteResult<Integer> subscribeFiltered(Http.SubscribeFiltered s) {
    if (tasks == null) {
      return RemoteResult.err(new ResponseError.NotImplemented(FEATURE));
    }
    HttpFilterMatcher filter;
    try {
      filter = HttpFilterMatcher.compile(s.filter());
    } catch (IllegalArgumentException e) {
      return RemoteResult.err(new ResponseError.RemoteIo(0, "bad HTTP filter: " + e.getMessage()));
    }
    try {
      if (s.mode() == IncomingMode.STEAL) {
        return tasks.stealer().subscribeFiltered(s.port(), this, filter);
      }
      tasks.mirror(s.port(), this);
      mirrorFilters.put(s.port(), filter);
      mirrored.add(s.port());
      logger.info("{} mirrors the HTTP requests to port {} that match {}", peer, s.port(), filter);
      return RemoteResult.ok(s.port());
    } catch (IOException | RuntimeException e) {
      logger.error("{}: cannot steal port {} with an HTTP filter: {}", peer, s.port(), e.getMessage());
      return RemoteResult.err(new ResponseError.RemoteIo(0, String.valueOf(e.getMessage())));
    }
  }

  private RemoteResult<Integer> subscribe(Tcp.PortSubscribe s) {
    if (tasks == null) {
      return RemoteResult.err(new ResponseError.NotImplemented(FEATURE));
    }
    try {
      if (s.mode() == IncomingMode.STEAL) {
        return tasks.stealer().subscribe(s.port(), this);
      }
      tasks.mirror(s.port(), this);
      mirrored.add(s.port());
      logger.info("{} mirrors port {}", peer, s.port());
      return RemoteResult.ok(s.port());
    } catch (IOException | RuntimeException e) {
      logger.error("{}: cannot {} port {}: {}", peer, s.mode().name().toLowerCase(java.util.Locale.ROOT),
          s.port(), e.getMessage());
      return RemoteResult.err(new ResponseError.RemoteIo(0, String.valueOf(e.getMessage())));
    }
  }

  private void unsubscribe(int port) {
    if (tasks == null) {
      return;
    }
    tasks.existingStealer().ifPresent(st -> st.unsubscribe(port, this));
    mirrorFilters.remove(port);
    if (mirrored.remove(port)) {
      try {
        tasks.stopMirroring(port, this);
      } catch (IOException e) {
        logger.warn("{}: unsubscribing mirrored port {}: {}", peer, port, e.getMessage());
      }
    }
  }

  /** The client is gone: its stolen ports go back to the target, its mirrors stop. */
  void closed() {
    if (tasks == null) {
      return;
    }
    blocking.execute(() -> {
      tasks.existingStealer().ifPresent(st -> st.clientGone(this));
      try {
        tasks.stopMirroringAll(this);
      } catch (IOException e) {
        logger.debug("{}: unsubscribe all: {}", peer, e.getMessage());
      }
      mirrored.clear();
    });
  }

  void writabilityChanged() {
    if (tasks != null) {
      tasks.existingStealer().ifPresent(st -> st.clientWritabilityChanged(this));
    }
  }

  // StealClient

  @Override
  public void send(AgentMessage message) {
    replies.accept(message);
  }

  @Override
  public void sendData(long id, io.netty.buffer.ByteBuf bytes) {
    dev.mirrord.jvm.protocol.codec.MessageCodec.writeData(channel.get(), id, bytes);
  }

  @Override
  public boolean writable() {
    Channel ch = channel.get();
    return ch == null || ch.isWritable();
  }

  @Override
  public io.netty.channel.EventLoop eventLoop() {
    return channel.get().eventLoop();
  }

  @Override
  public String name() {
    return peer;
  }

  // SnifferSubscriber (called on the sniffer thread; never blocks)

  @Override
  public void newConnection(long connectionId, FlowKey flow) {
    HttpFilterMatcher filter = mirrorFilters.get(flow.destinationPort());
    if (filter != null) {
      filteredMirrors.put(connectionId, new FilteredMirror(filter, flow));
      return;
    }
    announce(connectionId, flow);
  }

  private void announce(long connectionId, FlowKey flow) {
    replies.accept(
        new Tcp.NewConnection(
            connectionId,
            IncomingMode.MIRROR,
            flow.destinationPort(),
            flow.sourceAddress().getHostAddress(),
            flow.sourcePort(),
            flow.destinationAddress().getHostAddress(),
            flow.destinationPort()));
  }

  @Override
  public void data(long connectionId, byte[] bytes) {
    FilteredMirror fm = filteredMirrors.get(connectionId);
    if (fm != null) {
      bytes = fm.filter.feed(bytes);
      if (bytes.length == 0) {
        return;
      }
      if (!fm.announced) {
        fm.announced = true;
        announce(connectionId, fm.flow);
      }
    }
    if (cutMirrors.containsKey(connectionId)) {
      return;
    }
    if (backlog() > MIRROR_BACKLOG_LIMIT) {
      cutMirrors.put(connectionId, Boolean.TRUE);
      logger.warn("{} reads too slowly: mirrored connection {} cut ({} bytes waiting)", peer,
          connectionId, backlog());
      replies.accept(new Tcp.Close(connectionId, true));
      return;
    }
    // The array is shared between subscribers and never modified: no copy needed.
    replies.accept(new Tcp.Data(connectionId, Payload.wrap(bytes)));
  }

  @Override
  public void closed(long connectionId, boolean reset) {
    FilteredMirror fm = filteredMirrors.remove(connectionId);
    if (fm != null) {
      fm.filter.close();
      if (!fm.announced) {
        return; // nothing of it was mirrored
      }
    }
    if (cutMirrors.remove(connectionId) == null) {
      replies.accept(new Tcp.Close(connectionId, reset));
    }
  }

  private long backlog() {
    Channel ch = channel.get();
    if (ch == null) {
      return 0;
    }
    ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }
}
