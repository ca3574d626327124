package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pairs answers from the CLI with the requests that asked for them, by a key both carry:
 *
 * <pre>
 *   request                     answer                         key
 *   Session.Hello               HelloOk | HelloRejected         hello
 *   Session.Ping(nonce)         Pong(nonce)                     ping/nonce
 *   Target.TargetInfoRequest(id) TargetInfo(id)                 request/id
 *   Target.EnvRequest(id)       EnvResponse(id)                 request/id
 *   Dns.LookupRequest(id)       LookupResponse(id)              request/id
 *   Outgoing.ConnectRequest(id) ConnectResponse(id)             request/id
 *   Tcp.PortSubscribe(port)     PortSubscribeResult(port)       port/port
 * </pre>
 *
 * Anything without a key (data, close, agent logs) is unsolicited. Thread-safe: requests come from
 * app threads, answers from the event loop.
 */
final class RequestCorrelator {
  /** What pairs a request with its answer. */
  record Key(String kind, long id) {
    @Override
    public String toString() {
      return kind + "/" + id;
    }
  }

  private final Map<Key, CompletableFuture<AgentMessage>> pending = new ConcurrentHashMap<>();

  /** The key of a request, or {@code null} if no answer is expected. */
  static Key keyOf(ClientMessage m) {
    return key(m);
  }

  /** The key of an answer, or {@code null} if the message is unsolicited. */
  static Key keyOf(AgentMessage m) {
    return key(m);
  }

  private static Key key(Message m) {
    if (m instanceof Session.Hello
        || m instanceof Session.HelloOk
        || m instanceof Session.HelloRejected) {
      return new Key("hello", 0);
    } else if (m instanceof Session.Ping p) {
      return new Key("ping", p.nonce());
    } else if (m instanceof Session.Pong p) {
      return new Key("ping", p.nonce());
    } else if (m instanceof Target.TargetInfoRequest r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Target.TargetInfo r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Target.EnvRequest r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Target.EnvResponse r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Dns.LookupRequest r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Dns.LookupResponse r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Outgoing.ConnectRequest r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Outgoing.ConnectResponse r) {
      return new Key("request", r.requestId());
    } else if (m instanceof Tcp.PortSubscribe s) {
      return new Key("port", s.port());
    } else if (m instanceof Tcp.PortSubscribeResult r) {
      return new Key("port", r.port());
    }
    return null;
  }

  /**
   * Registers {@code request} and returns the future its answer completes. The future fails at
   * once if the request expects no answer or one with the same key is already in flight. It leaves
   * the table however it completes (answer, failure, caller's timeout or cancel).
   */
  CompletableFuture<AgentMessage> register(ClientMessage request) {
    Key key = keyOf(request);
    CompletableFuture<AgentMessage> f = new CompletableFuture<>();
    if (key == null) {
      f.completeExceptionally(
          new IllegalArgumentException(
              request.getClass().getSimpleName() + " expects no answer; send it instead"));
      return f;
    }
    if (pending.putIfAbsent(key, f) != null) {
      f.completeExceptionally(
          new IllegalStateException("a request with key " + key + " is already in flight"));
      return f;
    }
    f.whenComplete(new Forget<>(key, f)); // not a lambda: the first request is on the start path (LayerStartup says why)
    return f;
  }

  /** Completes the request {@code answer} belongs to; {@code false} if it belongs to none. */
  boolean complete(AgentMessage answer) {
    Key key = keyOf(answer);
    if (key == null) {
      return false;
    }
    CompletableFuture<AgentMessage> f = pending.remove(key);
    return f != null && f.complete(answer);
  }

  /** Fails every request in flight (the connection is gone). */
  void failAll(Throwable cause) {
    for (Key key : pending.keySet()) {
      CompletableFuture<AgentMessage> f = pending.remove(key);
      if (f != null) {
        f.completeExceptionally(cause);
      }
    }
  }

  int pendingCount() {
    return pending.size();
  }

  /** Drops a request's entry once it is answered, failed or cancelled. */
  private final class Forget<T> implements java.util.function.BiConsumer<T, Throwable> {
    private final Key key;
    private final CompletableFuture<AgentMessage> future;

    Forget(Key key, CompletableFuture<AgentMessage> future) {
      this.key = key;
      this.future = future;
    }

    @Override
    public void accept(T result, Throwable error) {
      pending.remove(key, future);
    }
  }
}
