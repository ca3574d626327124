package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.podagent.http.HttpFilterMatcher;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A port stolen with HTTP filters: one listener, the subscribed sessions in subscription order (the
 * first whose filter matches takes a request), and the connections accepted on it.
 */
final class FilteredPort {
  /** One session's filter on this port. */
  record Subscription(StealClient client, HttpFilterMatcher filter) {}

  /** The outcome of matching one request: who takes it, and who else would have. */
  record Match(StealClient client, List<StealClient> alsoMatched) {}

  final int port;
  final Channel listener;
  final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();
  final Set<FilteredConnection> connections = ConcurrentHashMap.newKeySet();
  /** Set once the last filter went: connections close when idle, new requests pass through. */
  volatile boolean handedBack;
  /** When a connection of this port last logged that the target's own server cannot be reached (nanoTime). */
  volatile long unreachableLoggedAt = System.nanoTime() - UNREACHABLE_LOG_NANOS;

  /** One such line per port per 10 s: a down server with many clients is one problem, not one per connection. */
  static final long UNREACHABLE_LOG_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

  /** Whether a connection that found the target's own server unreachable should say so now. */
  boolean logUnreachable() {
    long now = System.nanoTime();
    if (now - unreachableLoggedAt < UNREACHABLE_LOG_NANOS) {
      return false;
    }
    unreachableLoggedAt = now;
    return true;
  }

  FilteredPort(int port, Channel listener) {
    this.port = port;
    this.listener = listener;
  }

  /** The first subscription whose filter matches, or {@code null}. */
  Match match(HttpFilterMatcher.RequestView request) {
    StealClient first = null;
    List<StealClient> also = List.of();
    for (Subscription s : subscriptions) {
      if (s.filter().matches(request)) {
        if (first == null) {
          first = s.client();
        } else {
          if (also.isEmpty()) {
            also = new ArrayList<>();
          }
          also.add(s.client());
        }
      }
    }
    return first == null ? null : new Match(first, also);
  }

  /** Replaces {@code client}'s filter, or appends it. */
  void subscribe(StealClient client, HttpFilterMatcher filter) {
    for (Subscription s : subscriptions) {
      if (s.client() == client) {
        subscriptions.set(subscriptions.indexOf(s), new Subscription(client, filter));
        return;
      }
    }
    subscriptions.add(new Subscription(client, filter));
  }

  /** Removes {@code client}'s filter; whether it had one. */
  boolean unsubscribe(StealClient client) {
    return subscriptions.removeIf(s -> s.client() == client);
  }

  /** Names of the subscribed sessions, for error messages. */
  String owners() {
    return String.join(", ", subscriptions.stream().map(s -> s.client().name()).toList());
  }
}
