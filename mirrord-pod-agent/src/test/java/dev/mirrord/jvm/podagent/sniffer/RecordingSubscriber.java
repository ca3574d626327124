package dev.mirrord.jvm.podagent.sniffer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records {@link SnifferSubscriber} calls and the threads they came on. */
final class RecordingSubscriber implements SnifferSubscriber {
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<String> threads = new CopyOnWriteArrayList<>();
  final Map<Long, ByteArrayOutputStream> streams = new ConcurrentHashMap<>();
  final Map<Long, FlowKey> flows = new ConcurrentHashMap<>();

  /** Every call in order, data included ({@code "data <id> <text>"}). */
  final List<String> events = new CopyOnWriteArrayList<>();

  @Override
  public void newConnection(long connectionId, FlowKey flow) {
    threads.add(Thread.currentThread().getName());
    flows.put(connectionId, flow);
    streams.put(connectionId, new ByteArrayOutputStream());
    calls.add("new " + connectionId + " " + flow);
    events.add("new " + connectionId);
  }

  @Override
  public void data(long connectionId, byte[] bytes) {
    threads.add(Thread.currentThread().getName());
    ByteArrayOutputStream stream = streams.get(connectionId);
    synchronized (stream) {
      stream.writeBytes(bytes);
    }
    events.add("data " + connectionId + " " + new String(bytes, StandardCharsets.UTF_8));
  }

  @Override
  public void closed(long connectionId, boolean reset) {
    threads.add(Thread.currentThread().getName());
    calls.add((reset ? "reset " : "closed ") + connectionId);
    events.add((reset ? "reset " : "closed ") + connectionId);
  }

  String text(long connectionId) {
    ByteArrayOutputStream stream = streams.get(connectionId);
    if (stream == null) {
      return "";
    }
    synchronized (stream) {
      return stream.toString(StandardCharsets.UTF_8);
    }
  }
}
