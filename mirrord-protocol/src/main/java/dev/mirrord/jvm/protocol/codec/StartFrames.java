package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bodies of the messages a layer exchanges before its app's {@code main} runs — {@code Hello},
 * {@code HelloOk} / {@code HelloRejected}, {@code TargetInfoRequest}, {@code TargetInfo} — on
 * {@link ByteBuffer}s. A Netty {@code ByteBuf} starts Netty's {@code PlatformDependent} (its probes
 * of {@code Unsafe}, {@code MemorySegment}, JMX for the direct-memory ceiling, JFR, method handles):
 * ~75 ms of the app's cold JVM that the app's start waited for. The layer's start now reads and
 * writes these frames with this class alone, and Netty starts on the main connection's own thread.
 *
 * <p>There is one definition of these bodies: {@link WireTags}' formats of these five messages
 * read and write through this class. A body that is short, or a length larger than what is left,
 * is a {@link CorruptedFrameException}, as in {@link Wire}.
 */
public final class StartFrames {
  private StartFrames() {}

  /**
   * The whole frame of {@code m} ({@code u32 length | u16 tag | body}), ready to write.
   *
   * @throws IllegalArgumentException {@code m} is not a start message ({@code Hello}, {@code
   *     TargetInfoRequest})
   */
  public static ByteBuffer frame(ClientMessage m) {
    ByteBuffer body;
    int tag;
    if (m instanceof Session.Hello h) {
      body = hello(h);
      tag = HELLO_TAG;
    } else if (m instanceof Target.TargetInfoRequest r) {
      body = targetInfoRequest(r);
      tag = TARGET_INFO_REQUEST_TAG;
    } else {
      throw new IllegalArgumentException("not a start message: " + m.getClass().getSimpleName());
    }
    ByteBuffer frame = ByteBuffer.allocate(4 + 2 + body.remaining());
    frame.putInt(2 + body.remaining()).putShort((short) tag).put(body);
    return frame.flip();
  }

  /**
   * The message in a frame sent to a layer ({@code u16 tag | body}, without the length prefix):
   * a {@code HelloOk}, {@code HelloRejected} or {@code TargetInfo}; {@code null} for any other tag
   * (the frame is not read). Reads the whole of {@code frame}.
   *
   * @throws CorruptedFrameException a short body, a bad length, or trailing bytes
   */
  public static AgentMessage readToLayer(ByteBuffer frame) {
    ByteBuffer b = frame.slice();
    need(b, 2, "tag");
    int tag = Short.toUnsignedInt(b.getShort());
    AgentMessage m;
    if (tag == HELLO_OK_TAG) {
      m = readHelloOk(b);
    } else if (tag == HELLO_REJECTED_TAG) {
      m = readHelloRejected(b);
    } else if (tag == TARGET_INFO_TAG) {
      m = readTargetInfo(b);
    } else {
      frame.position(frame.limit());
      return null;
    }
    if (b.hasRemaining()) {
      throw new CorruptedFrameException(m.getClass().getSimpleName() + ": " + b.remaining() + " trailing bytes");
    }
    frame.position(frame.limit());
    return m;
  }

  // WireTags' tags of these messages (StartFramesTest checks them); not read from its table, whose start
  // (a format class per message) would then be on the app's start path too.
  static final int HELLO_TAG = 0x0001;
  static final int TARGET_INFO_REQUEST_TAG = 0x0010;
  static final int HELLO_OK_TAG = 0x8001;
  static final int HELLO_REJECTED_TAG = 0x8002;
  static final int TARGET_INFO_TAG = 0x8010;

  /** The body of a {@code Hello}: version, token, peer. */
  static ByteBuffer hello(Session.Hello m) {
    byte[] token = utf8(m.token());
    byte[] peer = utf8(m.peer());
    ByteBuffer b = ByteBuffer.allocate(4 + 4 + token.length + 4 + peer.length);
    putVersion(b, m.version());
    b.putInt(token.length).put(token).putInt(peer.length).put(peer);
    return b.flip();
  }

  static Session.Hello readHello(ByteBuffer b) {
    return new Session.Hello(readVersion(b), readString(b), readString(b));
  }

  /** The body of a {@code TargetInfoRequest}: request id. */
  static ByteBuffer targetInfoRequest(Target.TargetInfoRequest m) {
    return ByteBuffer.allocate(8).putLong(0, m.requestId());
  }

  static Target.TargetInfoRequest readTargetInfoRequest(ByteBuffer b) {
    need(b, 8, "TargetInfoRequest");
    return new Target.TargetInfoRequest(b.getLong());
  }

  /** The body of a {@code HelloOk}: negotiated version, agent version. */
  static ByteBuffer helloOk(Session.HelloOk m) {
    return versionAndString(m.negotiated(), m.agentVersion());
  }

  static Session.HelloOk readHelloOk(ByteBuffer b) {
    return new Session.HelloOk(readVersion(b), readString(b));
  }

  /** The body of a {@code HelloRejected}: agent version, reason. */
  static ByteBuffer helloRejected(Session.HelloRejected m) {
    return versionAndString(m.agentVersion(), m.reason());
  }

  static Session.HelloRejected readHelloRejected(ByteBuffer b) {
    return new Session.HelloRejected(readVersion(b), readString(b));
  }

  /** The body of a {@code TargetInfo}: request id, pid, netns inode, host name, addresses. */
  static ByteBuffer targetInfo(Target.TargetInfo m) {
    byte[] hostname = utf8(m.hostname());
    List<byte[]> addresses = new ArrayList<>(m.addresses().size());
    int size = 8 + 4 + 8 + 4 + hostname.length + 4;
    for (String a : m.addresses()) {
      byte[] bytes = utf8(a);
      addresses.add(bytes);
      size += 4 + bytes.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.putLong(m.requestId()).putInt(m.pid()).putLong(m.netnsInode());
    b.putInt(hostname.length).put(hostname).putInt(addresses.size());
    for (byte[] a : addresses) {
      b.putInt(a.length).put(a);
    }
    return b.flip();
  }

  static Target.TargetInfo readTargetInfo(ByteBuffer b) {
    need(b, 8 + 4 + 8, "TargetInfo");
    long requestId = b.getLong();
    int pid = b.getInt();
    long netnsInode = b.getLong();
    String hostname = readString(b);
    int n = readLength(b, 4);
    List<String> addresses = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      addresses.add(readString(b));
    }
    return new Target.TargetInfo(requestId, pid, netnsInode, hostname, addresses);
  }

  private static ByteBuffer versionAndString(ProtocolVersion v, String s) {
    byte[] bytes = utf8(s);
    ByteBuffer b = ByteBuffer.allocate(4 + 4 + bytes.length);
    putVersion(b, v);
    b.putInt(bytes.length).put(bytes);
    return b.flip();
  }

  private static void putVersion(ByteBuffer b, ProtocolVersion v) {
    b.putShort((short) v.major()).putShort((short) v.minor());
  }

  private static ProtocolVersion readVersion(ByteBuffer b) {
    need(b, 4, "version");
    return new ProtocolVersion(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()));
  }

  private static String readString(ByteBuffer b) {
    byte[] bytes = new byte[readLength(b, 1)];
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** A {@code u32} count of items of at least {@code minItemSize} bytes each, checked as {@link Wire} does. */
  private static int readLength(ByteBuffer b, int minItemSize) {
    need(b, 4, "length");
    int n = b.getInt();
    if (n < 0 || (long) n * minItemSize > b.remaining()) {
      throw new CorruptedFrameException(
          "length " + n + " exceeds the " + b.remaining() + " bytes left in the frame");
    }
    return n;
  }

  private static void need(ByteBuffer b, int bytes, String what) {
    if (b.remaining() < bytes) {
      throw new CorruptedFrameException(what + " needs " + bytes + " bytes, " + b.remaining() + " left in the frame");
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
