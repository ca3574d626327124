package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one tag table: a stable {@code u16} tag per message class, with its reader and writer.
 *
 * <p>Rules (see docs/PROTOCOL.md): a tag is never reused, reordered or given other fields; a new
 * message gets a new tag and a minor version bump; a changed shape becomes a {@code ...V2} record
 * with a new tag. Tags below {@code 0x8000} go client to agent, from {@code 0x8000} agent to
 * client; messages that travel both ways ({@link Tcp.Data} etc.) carry one tag and are allowed in
 * both directions.
 *
 * <pre>
 * frame = u32 length (of what follows) | u16 tag | body
 * </pre>
 */
public final class WireTags {

  /** One row of the table. */
  public record Entry<M extends Message>(
      int tag, Class<M> type, boolean clientToAgent, boolean agentToClient, Format<M> format) {}

  /**
   * A message's reader and writer, one class per message: a lambda per reader and writer (58 of
   * them) cost 35-55 ms at this class's initialization in a JVM without an AOT cache (the app's,
   * where the layer runs), each linked through {@code LambdaMetafactory}; these classes load in a
   * few.
   */
  public abstract static class Format<M extends Message> {
    /** Reads the body of a frame of this message (after its tag). */
    public abstract M read(ByteBuf b);

    /** Writes the body of a frame of this message (after its tag). */
    public abstract void write(ByteBuf b, M m);
  }

  private static final Map<Integer, Entry<?>> BY_TAG = new LinkedHashMap<>();
  private static final Map<Class<?>, Entry<?>> BY_TYPE = new HashMap<>();

  static {
    // Session family 0x0001..
    client(0x0001, Session.Hello.class, new Format<>() {
        @Override
        public Session.Hello read(ByteBuf b) {
          ByteBuffer v = Wire.view(b);
          return Wire.consumed(b, v, StartFrames.readHello(v));
        }

        @Override
        public void write(ByteBuf b, Session.Hello m) {
          b.writeBytes(StartFrames.hello(m));
        }
      });
    client(0x0002, Session.Ping.class, new Format<>() {
        @Override
        public Session.Ping read(ByteBuf b) {
          return new Session.Ping(b.readLong());
        }

        @Override
        public void write(ByteBuf b, Session.Ping m) {
          b.writeLong(m.nonce());
        }
      });
    agent(0x8001, Session.HelloOk.class, new Format<>() {
        @Override
        public Session.HelloOk read(ByteBuf b) {
          ByteBuffer v = Wire.view(b);
          return Wire.consumed(b, v, StartFrames.readHelloOk(v));
        }

        @Override
        public void write(ByteBuf b, Session.HelloOk m) {
          b.writeBytes(StartFrames.helloOk(m));
        }
      });
    agent(0x8002, Session.HelloRejected.class, new Format<>() {
        @Override
        public Session.HelloRejected read(ByteBuf b) {
          ByteBuffer v = Wire.view(b);
          return Wire.consumed(b, v, StartFrames.readHelloRejected(v));
        }

        @Override
        public void write(ByteBuf b, Session.HelloRejected m) {
          b.writeBytes(StartFrames.helloRejected(m));
        }
      });
    agent(0x8003, Session.Pong.class, new Format<>() {
        @Override
        public Session.Pong read(ByteBuf b) {
          return new Session.Pong(b.readLong());
        }

        @Override
        public void write(ByteBuf b, Session.Pong m) {
          b.writeLong(m.nonce());
        }
      });
    agent(0x8004, Session.AgentLog.class, new Format<>() {
        @Override
        public Session.AgentLog read(ByteBuf b) {
          return new Session.AgentLog(level(b.readUnsignedByte()), Wire.readString(b));
        }

        @Override
        public void write(ByteBuf b, Session.AgentLog m) {
          b.writeByte(m.level().code);
          Wire.writeString(b, m.message());
        }
      });

    // Target family 0x0010..
    client(0x0010, Target.TargetInfoRequest.class, new Format<>() {
        @Override
        public Target.TargetInfoRequest read(ByteBuf b) {
          ByteBuffer v = Wire.view(b);
          return Wire.consumed(b, v, StartFrames.readTargetInfoRequest(v));
        }

        @Override
        public void write(ByteBuf b, Target.TargetInfoRequest m) {
          b.writeBytes(StartFrames.targetInfoRequest(m));
        }
      });
    client(0x0011, Target.EnvRequest.class, new Format<>() {
        @Override
        public Target.EnvRequest read(ByteBuf b) {
          return new Target.EnvRequest(b.readLong());
        }

        @Override
        public void write(ByteBuf b, Target.EnvRequest m) {
          b.writeLong(m.requestId());
        }
      });
    agent(0x8010, Target.TargetInfo.class, new Format<>() {
        @Override
        public Target.TargetInfo read(ByteBuf b) {
          ByteBuffer v = Wire.view(b);
          return Wire.consumed(b, v, StartFrames.readTargetInfo(v));
        }

        @Override
        public void write(ByteBuf b, Target.TargetInfo m) {
          b.writeBytes(StartFrames.targetInfo(m));
        }
      });
    agent(0x8011, Target.EnvResponse.class, new Format<>() {
        @Override
        public Target.EnvResponse read(ByteBuf b) {
          return new Target.EnvResponse(b.readLong(), Wire.readResult(b, Wire::readStringMap));
        }

        @Override
        public void write(ByteBuf b, Target.EnvResponse m) {
          b.writeLong(m.requestId());
          Wire.writeResult(b, m.env(), Wire::writeStringMap);
        }
      });
    // since 1.4 (Target.RESOLVER_FILES_SINCE)
    client(0x0012, Target.ResolverFilesRequest.class, new Format<>() {
        @Override
        public Target.ResolverFilesRequest read(ByteBuf b) {
          return new Target.ResolverFilesRequest(b.readLong());
        }

        @Override
        public void write(ByteBuf b, Target.ResolverFilesRequest m) {
          b.writeLong(m.requestId());
        }
      });
    agent(0x8012, Target.ResolverFiles.class, new Format<>() {
        @Override
        public Target.ResolverFiles read(ByteBuf b) {
          return new Target.ResolverFiles(b.readLong(), Wire.readResult(b, Wire::readPayload), Wire.readResult(b, Wire::readPayload));
        }

        @Override
        public void write(ByteBuf b, Target.ResolverFiles m) {
          b.writeLong(m.requestId());
          Wire.writeResult(b, m.resolvConf(), Wire::writePayload);
          Wire.writeResult(b, m.hosts(), Wire::writePayload);
        }
      });

    // Incoming TCP family 0x0100..
    client(0x0101, Tcp.PortSubscribe.class, new Format<>() {
        @Override
        public Tcp.PortSubscribe read(ByteBuf b) {
          return new Tcp.PortSubscribe(Wire.readPort(b), mode(b.readUnsignedByte()));
        }

        @Override
        public void write(ByteBuf b, Tcp.PortSubscribe m) {
          b.writeShort(m.port());
          b.writeByte(m.mode().code);
        }
      });
    client(0x0102, Tcp.PortUnsubscribe.class, new Format<>() {
        @Override
        public Tcp.PortUnsubscribe read(ByteBuf b) {
          return new Tcp.PortUnsubscribe(Wire.readPort(b));
        }

        @Override
        public void write(ByteBuf b, Tcp.PortUnsubscribe m) {
          b.writeShort(m.port());
        }
      });
    both(0x0103, Tcp.Data.class, new Format<>() {
        @Override
        public Tcp.Data read(ByteBuf b) {
          return new Tcp.Data(b.readLong(), Wire.readPayload(b));
        }

        @Override
        public void write(ByteBuf b, Tcp.Data m) {
          b.writeLong(m.connectionId());
          Wire.writePayload(b, m.bytes());
        }
      });
    both(0x0104, Tcp.Shutdown.class, new Format<>() {
        @Override
        public Tcp.Shutdown read(ByteBuf b) {
          return new Tcp.Shutdown(b.readLong());
        }

        @Override
        public void write(ByteBuf b, Tcp.Shutdown m) {
          b.writeLong(m.connectionId());
        }
      });
    both(0x0105, Tcp.Close.class, new Format<>() {
        @Override
        public Tcp.Close read(ByteBuf b) {
          return new Tcp.Close(b.readLong(), Wire.readBool(b));
        }

        @Override
        public void write(ByteBuf b, Tcp.Close m) {
          b.writeLong(m.connectionId());
          Wire.writeBool(b, m.reset());
        }
      });
    both(0x0106, Tcp.Flow.class, new Format<>() {
        @Override
        public Tcp.Flow read(ByteBuf b) {
          return new Tcp.Flow(b.readLong(), Wire.readBool(b));
        }

        @Override
        public void write(ByteBuf b, Tcp.Flow m) {
          b.writeLong(m.connectionId());
          Wire.writeBool(b, m.paused());
        }
      });
    agent(0x8101, Tcp.PortSubscribeResult.class, new Format<>() {
        @Override
        public Tcp.PortSubscribeResult read(ByteBuf b) {
          return new Tcp.PortSubscribeResult(Wire.readPort(b), Wire.readResult(b, x -> x.readUnsignedShort()));
        }

        @Override
        public void write(ByteBuf b, Tcp.PortSubscribeResult m) {
          b.writeShort(m.port());
          Wire.writeResult(b, m.result(), (x, port) -> x.writeShort(port));
        }
      });
    agent(0x8102, Tcp.NewConnection.class, new Format<>() {
        @Override
        public Tcp.NewConnection read(ByteBuf b) {
          return new Tcp.NewConnection(b.readLong(), mode(b.readUnsignedByte()), Wire.readPort(b), Wire.readString(b), b.readUnsignedShort(), Wire.readString(b), b.readUnsignedShort());
        }

        @Override
        public void write(ByteBuf b, Tcp.NewConnection m) {
          b.writeLong(m.connectionId());
          b.writeByte(m.mode().code);
          b.writeShort(m.targetPort());
          Wire.writeString(b, m.sourceAddress());
          b.writeShort(m.sourcePort());
          Wire.writeString(b, m.destinationAddress());
          b.writeShort(m.destinationPort());
        }
      });
    agent(0x8103, Tcp.IncomingPeer.class, new Format<>() {
        @Override
        public Tcp.IncomingPeer read(ByteBuf b) {
          return new Tcp.IncomingPeer(Wire.readPort(b), Wire.readString(b), b.readUnsignedShort());
        }

        @Override
        public void write(ByteBuf b, Tcp.IncomingPeer m) {
          b.writeShort(m.localPort());
          Wire.writeString(b, m.sourceAddress());
          b.writeShort(m.sourcePort());
        }
      });

    // HTTP-filtered incoming family 0x0110.. / 0x8110.. (since 1.5); bodies travel as Tcp.Data/Flow/Close
    client(0x0110, Http.SubscribeFiltered.class, new Format<>() {
        @Override
        public Http.SubscribeFiltered read(ByteBuf b) {
          return new Http.SubscribeFiltered(Wire.readPort(b), mode(b.readUnsignedByte()), Wire.readFilter(b));
        }

        @Override
        public void write(ByteBuf b, Http.SubscribeFiltered m) {
          b.writeShort(m.port());
          b.writeByte(m.mode().code);
          Wire.writeFilter(b, m.filter());
        }
      });
    client(0x0111, Http.Response.class, new Format<>() {
        @Override
        public Http.Response read(ByteBuf b) {
          return new Http.Response(b.readLong(), b.readUnsignedByte(), b.readUnsignedShort(), Wire.readString(b), Wire.readHeaders(b), Wire.readBool(b));
        }

        @Override
        public void write(ByteBuf b, Http.Response m) {
          b.writeLong(m.streamId());
          b.writeByte(m.version());
          b.writeShort(m.status());
          Wire.writeString(b, m.reason());
          Wire.writeHeaders(b, m.headers());
          Wire.writeBool(b, m.endOfStream());
        }
      });
    both(0x0112, Http.BodyEnd.class, new Format<>() {
        @Override
        public Http.BodyEnd read(ByteBuf b) {
          return new Http.BodyEnd(b.readLong(), Wire.readHeaders(b));
        }

        @Override
        public void write(ByteBuf b, Http.BodyEnd m) {
          b.writeLong(m.streamId());
          Wire.writeHeaders(b, m.trailers());
        }
      });
    agent(0x8110, Http.Request.class, new Format<>() {
        @Override
        public Http.Request read(ByteBuf b) {
          return new Http.Request(b.readLong(), b.readLong(), Wire.readPort(b), Wire.readString(b), b.readUnsignedShort(), b.readUnsignedByte(), Wire.readString(b), Wire.readString(b), Wire.readHeaders(b), Wire.readBool(b));
        }

        @Override
        public void write(ByteBuf b, Http.Request m) {
          b.writeLong(m.streamId());
          b.writeLong(m.connectionId());
          b.writeShort(m.targetPort());
          Wire.writeString(b, m.sourceAddress());
          b.writeShort(m.sourcePort());
          b.writeByte(m.version());
          Wire.writeString(b, m.method());
          Wire.writeString(b, m.uri());
          Wire.writeHeaders(b, m.headers());
          Wire.writeBool(b, m.endOfStream());
        }
      });

    // Outgoing family 0x0200.. (since 1.3); its bytes travel as Tcp.Data/Shutdown/Close/Flow
    client(0x0201, Outgoing.ConnectRequest.class, new Format<>() {
        @Override
        public Outgoing.ConnectRequest read(ByteBuf b) {
          return new Outgoing.ConnectRequest(b.readLong(), outgoingProtocol(b.readUnsignedByte()), Wire.readString(b), Wire.readPort(b), b.readInt());
        }

        @Override
        public void write(ByteBuf b, Outgoing.ConnectRequest m) {
          b.writeLong(m.requestId());
          b.writeByte(m.protocol().code);
          Wire.writeString(b, m.address());
          b.writeShort(m.port());
          b.writeInt(m.timeoutMillis());
        }
      });
    agent(0x8201, Outgoing.ConnectResponse.class, new Format<>() {
        @Override
        public Outgoing.ConnectResponse read(ByteBuf b) {
          return new Outgoing.ConnectResponse(b.readLong(), Wire.readResult(b, x -> new Outgoing.Connected(x.readLong(), Wire.readString(x), x.readUnsignedShort())));
        }

        @Override
        public void write(ByteBuf b, Outgoing.ConnectResponse m) {
          b.writeLong(m.requestId());
          Wire.writeResult(b, m.result(), (x, c) -> {
            x.writeLong(c.connectionId());
            Wire.writeString(x, c.localAddress());
            x.writeShort(c.localPort());
          });
        }
      });

    // DNS family 0x0300.. (since 1.2)
    client(0x0301, Dns.LookupRequest.class, new Format<>() {
        @Override
        public Dns.LookupRequest read(ByteBuf b) {
          return new Dns.LookupRequest(b.readLong(), Wire.readString(b), b.readUnsignedByte());
        }

        @Override
        public void write(ByteBuf b, Dns.LookupRequest m) {
          b.writeLong(m.requestId());
          Wire.writeString(b, m.host());
          b.writeByte(m.family());
        }
      });
    agent(0x8301, Dns.LookupResponse.class, new Format<>() {
        @Override
        public Dns.LookupResponse read(ByteBuf b) {
          return new Dns.LookupResponse(b.readLong(), Wire.readResult(b, Wire::readStringList));
        }

        @Override
        public void write(ByteBuf b, Dns.LookupResponse m) {
          b.writeLong(m.requestId());
          Wire.writeResult(b, m.addresses(), Wire::writeStringList);
        }
      });
    verifyRoots();
  }

  private WireTags() {}

  /** The row for {@code tag}, or {@code null}. */
  public static Entry<?> forTag(int tag) {
    return BY_TAG.get(tag);
  }

  /** The row for a message's class; every concrete message class has one. */
  public static Entry<?> forType(Class<?> type) {
    Entry<?> e = BY_TYPE.get(type);
    if (e == null) {
      throw new IllegalArgumentException("no wire tag for " + type.getName());
    }
    return e;
  }

  /** The whole table in tag order, for docs and tests. */
  public static Map<Integer, Entry<?>> all() {
    return Collections.unmodifiableMap(BY_TAG);
  }

  private static <M extends ClientMessage> void client(int tag, Class<M> type, Format<M> format) {
    add(new Entry<>(tag, type, true, false, format));
  }

  private static <M extends AgentMessage> void agent(int tag, Class<M> type, Format<M> format) {
    add(new Entry<>(tag, type, false, true, format));
  }

  private static <M extends Message> void both(int tag, Class<M> type, Format<M> format) {
    add(new Entry<>(tag, type, true, true, format));
  }

  private static void add(Entry<?> e) {
    if (BY_TAG.put(e.tag(), e) != null || BY_TYPE.put(e.type(), e) != null) {
      throw new ExceptionInInitializerError("duplicate wire tag " + e.tag());
    }
  }

  /** Every permitted subclass of the sealed roots must have a tag: fail fast at class init. */
  private static void verifyRoots() {
    for (Class<?> root : new Class<?>[] {ClientMessage.class, AgentMessage.class}) {
      for (Class<?> c : root.getPermittedSubclasses()) {
        if (!BY_TYPE.containsKey(c)) {
          throw new ExceptionInInitializerError("message without wire tag: " + c.getName());
        }
      }
    }
  }

  private static IncomingMode mode(int code) {
    try {
      return IncomingMode.ofCode(code);
    } catch (IllegalArgumentException e) {
      throw new CorruptedFrameException(e.getMessage());
    }
  }

  private static Outgoing.Protocol outgoingProtocol(int code) {
    try {
      return Outgoing.Protocol.ofCode(code);
    } catch (IllegalArgumentException e) {
      throw new CorruptedFrameException(e.getMessage());
    }
  }

  private static Session.AgentLog.Level level(int code) {
    try {
      return Session.AgentLog.Level.ofCode(code);
    } catch (IllegalArgumentException e) {
      throw new CorruptedFrameException(e.getMessage());
    }
  }
}
