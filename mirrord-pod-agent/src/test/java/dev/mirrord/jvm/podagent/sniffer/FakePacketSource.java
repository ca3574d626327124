package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link PacketSource} fed by the test. Like the kernel, it runs the real {@link TcpPortFilter}
 * program (through {@link CbpfInterpreter}) on each injected packet and keeps only what passes.
 */
final class FakePacketSource implements PacketSource {
  /**
   * test --injected packets that passed the filter, in batches read at once (like a ring block)-->
   * sniffer thread
   */
  private final BlockingQueue<List<CapturedPacket>> capturedBatches = new LinkedBlockingQueue<>();

  /** The rest of the batch being read; sniffer thread only. */
  private final ArrayDeque<CapturedPacket> reading = new ArrayDeque<>();

  final List<Set<Integer>> filterHistory = new CopyOnWriteArrayList<>();
  private volatile List<TcpPortFilter.Instruction> program = TcpPortFilter.compile(Set.of());
  private volatile boolean closed;
  private volatile IOException nextSetPortsFailure;
  private long received;
  private long filtered;

  /** Offers {@code packet} to the filter, as an arriving packet; returns whether it passed. */
  boolean inject(byte[] packet) {
    return inject(packet, CapturedPacket.PacketType.HOST);
  }

  /** Offers {@code packet} to the filter; returns whether it passed. */
  synchronized boolean inject(byte[] packet, CapturedPacket.PacketType type) {
    CapturedPacket captured = filter(packet, type);
    if (captured != null) {
      capturedBatches.add(List.of(captured));
    }
    return captured != null;
  }

  /**
   * Offers arriving {@code packets} to the filter; those that pass become readable all at once, as
   * when the reader finds them queued together. Returns how many passed.
   */
  synchronized int injectBatch(byte[]... packets) {
    List<CapturedPacket> batch = new ArrayList<>();
    for (byte[] packet : packets) {
      CapturedPacket captured = filter(packet, CapturedPacket.PacketType.HOST);
      if (captured != null) {
        batch.add(captured);
      }
    }
    if (!batch.isEmpty()) {
      capturedBatches.add(List.copyOf(batch));
    }
    return batch.size();
  }

  private CapturedPacket filter(byte[] packet, CapturedPacket.PacketType type) {
    int etherType =
        (packet[0] & 0xf0) == 0x60 ? CapturedPacket.ETHERTYPE_IPV6 : CapturedPacket.ETHERTYPE_IPV4;
    if (CbpfInterpreter.run(program, packet, etherType) == 0) {
      filtered++;
      return null;
    }
    received++;
    return new CapturedPacket(packet, etherType, type, 2, System.nanoTime());
  }

  void failNextSetPorts(IOException failure) {
    nextSetPortsFailure = failure;
  }

  boolean closed() {
    return closed;
  }

  synchronized long filtered() {
    return filtered;
  }

  @Override
  public CapturedPacket next(long timeoutMillis) throws IOException {
    if (closed) {
      throw new IOException("closed");
    }
    if (!reading.isEmpty()) {
      return reading.poll();
    }
    try {
      List<CapturedPacket> batch = capturedBatches.poll(timeoutMillis, TimeUnit.MILLISECONDS);
      if (batch == null) {
        return null;
      }
      reading.addAll(batch);
      return reading.poll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  @Override
  public synchronized void setPorts(Set<Integer> ports) throws IOException {
    IOException failure = nextSetPortsFailure;
    if (failure != null) {
      nextSetPortsFailure = null;
      throw failure;
    }
    program = TcpPortFilter.compile(ports);
    filterHistory.add(Set.copyOf(ports));
  }

  @Override
  public synchronized Stats stats() {
    return new Stats(received, 0, 0);
  }

  @Override
  public void close() {
    closed = true;
  }
}
