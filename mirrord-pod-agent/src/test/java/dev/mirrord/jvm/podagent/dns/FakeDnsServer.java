package dev.mirrord.jvm.podagent.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, ephemeral port) built from dnsjava's message
 * classes: answers A/AAAA from a fixed table, NXDOMAIN for unknown names (NOERROR without answers
 * for a known name of the other family), SERVFAIL for names in {@code failing}, and no answer at
 * all for names in {@code silent}. Records every question as {@code name/TYPE}.
 */
final class FakeDnsServer implements AutoCloseable {
  private final DatagramSocket socket;
  private final Map<Name, List<InetAddress>> table = new ConcurrentHashMap<>();
  private final Set<Name> failing = ConcurrentHashMap.newKeySet();
  private final Set<Name> silent = ConcurrentHashMap.newKeySet();
  final List<String> questions = new CopyOnWriteArrayList<>();
  private final Thread thread;

  FakeDnsServer() throws IOException {
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    thread = Thread.ofPlatform().daemon().name("fake-dns").start(this::serve);
  }

  FakeDnsServer record(String name, String... addresses) throws IOException {
    List<InetAddress> list = new java.util.ArrayList<>();
    for (String a : addresses) {
      list.add(InetAddress.getByName(a)); // literals only: no lookup
    }
    table.put(Name.fromString(name), list);
    return this;
  }

  FakeDnsServer failing(String name) throws IOException {
    failing.add(Name.fromString(name));
    return this;
  }

  FakeDnsServer silent(String name) throws IOException {
    silent.add(Name.fromString(name));
    return this;
  }

  int port() {
    return socket.getLocalPort();
  }

  private void serve() {
    byte[] buf = new byte[4096];
    while (!socket.isClosed()) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        Message query;
        try {
          query = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
        } catch (IOException e) {
          // Recorded, so a test sees a query this server could not read instead of a silent loss.
          questions.add("unparseable: " + e.getMessage());
          continue;
        }
        byte[] answer = answer(query);
        if (answer != null) {
          socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
        }
      } catch (IOException e) {
        // closed, or a garbage packet: keep serving until closed
      }
    }
  }

  private byte[] answer(Message query) {
    Record q = query.getQuestion();
    Name name = q.getName();
    questions.add(name + "/" + Type.string(q.getType()));
    if (silent.contains(name)) {
      return null;
    }
    Message r = new Message(query.getHeader().getID());
    r.getHeader().setFlag(Flags.QR);
    r.getHeader().setFlag(Flags.AA);
    r.getHeader().setFlag(Flags.RA);
    if (query.getHeader().getFlag(Flags.RD)) {
      r.getHeader().setFlag(Flags.RD);
    }
    r.addRecord(q, Section.QUESTION);
    List<InetAddress> known = table.get(name);
    if (failing.contains(name)) {
      r.getHeader().setRcode(Rcode.SERVFAIL);
    } else if (known == null) {
      r.getHeader().setRcode(Rcode.NXDOMAIN);
    } else {
      for (InetAddress a : known) {
        if (q.getType() == Type.A && a.getAddress().length == 4) {
          r.addRecord(new ARecord(name, DClass.IN, 30, a), Section.ANSWER);
        } else if (q.getType() == Type.AAAA && a.getAddress().length == 16) {
          r.addRecord(new AAAARecord(name, DClass.IN, 30, a), Section.ANSWER);
        }
      }
    }
    return r.toWire();
  }

  @Override
  public void close() throws InterruptedException {
    socket.close();
    thread.join(2000);
  }
}
