package dev.mirrord.jvm.podagent.stealer;

import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Http;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A session of a filtered port: records what the stealer sends it (messages, and body bytes per stream id). */
final class RecordingSession implements StealClient {
  final EventLoop loop;
  final String name;
  final List<AgentMessage> sent = new CopyOnWriteArrayList<>();
  private final Map<Long, StringBuffer> bodies = new ConcurrentHashMap<>();
  private int seen;

  RecordingSession(EventLoop loop, String name) {
    this.loop = loop;
    this.name = name;
  }

  @Override
  public void send(AgentMessage message) {
    sent.add(message);
  }

  @Override
  public void sendData(long id, ByteBuf data) {
    try {
      bodies.computeIfAbsent(id, k -> new StringBuffer()).append(data.toString(StandardCharsets.ISO_8859_1));
    } finally {
      data.release();
    }
  }

  @Override
  public boolean writable() {
    return true;
  }

  @Override
  public EventLoop eventLoop() {
    return loop;
  }

  @Override
  public String name() {
    return name;
  }

  List<Http.Request> requests() {
    List<Http.Request> out = new ArrayList<>();
    sent.stream().filter(m -> m instanceof Http.Request).forEach(m -> out.add((Http.Request) m));
    return out;
  }

  /** The next request not returned yet (waits up to 10 s). */
  Http.Request awaitRequest() {
    int before = seen;
    await().atMost(Duration.ofSeconds(10)).until(() -> requests().size() > before);
    seen++;
    return requests().get(before);
  }

  /** The body bytes received so far for {@code id}, as ISO-8859-1 text. */
  String body(long id) {
    StringBuffer b = bodies.get(id);
    return b == null ? "" : b.toString();
  }
}
