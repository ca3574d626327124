package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;
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
  /** test --injected packets that passed the filter--> sniffer thread */
  private final BlockingQueue<CapturedPacket> capturedPackets = new LinkedBlockingQueue<>();

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
    int etherType =
        (packet[0] & 0xf0) == 0x60 ? CapturedPacket.ETHERTYPE_IPV6 : CapturedPacket.ETHERTYPE_IPV4;
    if (CbpfInterpreter.run(program, packet, etherType) == 0) {
      filtered++;
      return false;
    }
    received++;
    capturedPackets.add(new CapturedPacket(packet, etherType, type, 2, System.nanoTime()));
    return true;
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
    try {
      return capturedPackets.poll(timeoutMillis, TimeUnit.MILLISECONDS);
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
