package dev.mirrord.jvm.layer.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A name server on 127.0.0.1, UDP and TCP on one ephemeral port (so one FakeAgent route serves
 * both), answering A queries from a table (NXDOMAIN otherwise). A UDP answer over 512 bytes is sent
 * as real servers do without a larger EDNS buffer: the header with the TC bit and no records, so
 * the client must ask again over TCP. Logs each question as {@code udp name/TYPE} or {@code tcp
 * name/TYPE}.
 */
public final class TruncatingDnsServer implements AutoCloseable {
  private static final int UDP_LIMIT = 512;

  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final Map<Name, List<InetAddress>> table = new ConcurrentHashMap<>();
  public final List<String> questions = new CopyOnWriteArrayList<>();

  public TruncatingDnsServer() throws IOException {
    DatagramSocket u = null;
    ServerSocket t = null;
    for (int attempt = 0; t == null; attempt++) {
      u = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      try {
        t = new ServerSocket();
        t.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), u.getLocalPort()));
      } catch (IOException e) {
        u.close(); // the TCP port was taken: another pair
        t = null;
        if (attempt == 20) {
          throw e;
        }
      }
    }
    udp = u;
    tcp = t;
    daemon("dns-udp", this::serveUdp);
    daemon("dns-tcp", this::serveTcp);
  }

  /** {@code name} (absolute, e.g. {@code svc.default.svc.cluster.local.}) has these IPv4 addresses. */
  public TruncatingDnsServer record(String name, List<String> addresses) throws IOException {
    List<InetAddress> list = new ArrayList<>();
    for (String a : addresses) {
      list.add(InetAddress.getByName(a)); // literals: no lookup
    }
    table.put(Name.fromString(name), list);
    return this;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) udp.getLocalSocketAddress();
  }

  private static void daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
  }

  private void serveUdp() {
    byte[] buf = new byte[4096];
    while (!udp.isClosed()) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        udp.receive(p);
        Message query = new Message(java.util.Arrays.copyOf(p.getData(), p.getLength()));
        byte[] wire = answer("udp", query).toWire();
        if (wire.length > UDP_LIMIT) {
          Message truncated = reply(query);
          truncated.getHeader().setFlag(Flags.TC);
          wire = truncated.toWire();
        }
        udp.send(new DatagramPacket(wire, wire.length, p.getSocketAddress()));
      } catch (IOException e) {
        // closed, or a packet that is no DNS query
      }
    }
  }

  private void serveTcp() {
    while (!tcp.isClosed()) {
      try (Socket s = tcp.accept();
          DataInputStream in = new DataInputStream(s.getInputStream());
          DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
        byte[] q = new byte[in.readUnsignedShort()];
        in.readFully(q);
        byte[] wire = answer("tcp", new Message(q)).toWire();
        out.writeShort(wire.length);
        out.write(wire);
        out.flush();
      } catch (IOException e) {
        // closed, or a client that went away
      }
    }
  }

  private static Message reply(Message query) {
    Message r = new Message(query.getHeader().getID());
    r.getHeader().setFlag(Flags.QR);
    r.getHeader().setFlag(Flags.AA);
    if (query.getHeader().getFlag(Flags.RD)) {
      r.getHeader().setFlag(Flags.RD);
    }
    r.addRecord(query.getQuestion(), Section.QUESTION);
    return r;
  }

  private Message answer(String transport, Message query) {
    Name name = query.getQuestion().getName();
    int type = query.getQuestion().getType();
    questions.add(transport + " " + name + "/" + Type.string(type));
    Message r = reply(query);
    List<InetAddress> known = table.get(name);
    if (known == null) {
      r.getHeader().setRcode(Rcode.NXDOMAIN);
    } else if (type == Type.A) {
      for (InetAddress a : known) {
        r.addRecord(new ARecord(name, DClass.IN, 30, a), Section.ANSWER);
      }
    }
    return r;
  }

  @Override
  public void close() throws IOException {
    udp.close();
    tcp.close();
  }
}
