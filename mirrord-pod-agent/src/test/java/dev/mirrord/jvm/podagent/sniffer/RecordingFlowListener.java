package dev.mirrord.jvm.podagent.sniffer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Records tracker events: a log of non-data events, and each flow's bytes. */
final class RecordingFlowListener implements TcpFlowTracker.Listener {
  final List<String> events = new ArrayList<>();
  final Map<FlowKey, ByteArrayOutputStream> streams = new HashMap<>();
  final List<Integer> chunkSizes = new ArrayList<>();

  @Override
  public void opened(FlowKey flow) {
    events.add("opened " + flow);
    streams.put(flow, new ByteArrayOutputStream());
  }

  @Override
  public void data(FlowKey flow, byte[] bytes) {
    ByteArrayOutputStream stream = streams.get(flow);
    if (stream == null) {
      throw new AssertionError("data before opened for " + flow);
    }
    stream.writeBytes(bytes);
    chunkSizes.add(bytes.length);
  }

  @Override
  public void closed(FlowKey flow, boolean reset) {
    events.add((reset ? "reset " : "closed ") + flow);
  }

  @Override
  public void dropped(FlowKey flow, String reason) {
    events.add("dropped " + flow + ": " + reason);
  }

  byte[] bytes(FlowKey flow) {
    ByteArrayOutputStream stream = streams.get(flow);
    return stream == null ? new byte[0] : stream.toByteArray();
  }

  String text(FlowKey flow) {
    return new String(bytes(flow), StandardCharsets.UTF_8);
  }
}
