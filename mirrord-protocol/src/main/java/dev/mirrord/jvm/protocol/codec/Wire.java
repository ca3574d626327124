package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Field encodings. Every length is checked against what the frame still holds before anything is
 * allocated, so a hostile length can never make the reader allocate more than the frame's size.
 *
 * <pre>
 * string   = u32 length, UTF-8 bytes
 * payload  = u32 length, bytes
 * bool     = u8 (0 or 1)
 * list&lt;T&gt;  = u32 count, T...
 * map      = u32 count, (string key, string value)...
 * version  = u16 major, u16 minor
 * result   = u8 0 then T, or u8 1 then error
 * error    = u8 code, fields of that kind (see WireTags)
 * </pre>
 */
final class Wire {
  private Wire() {}

  /**
   * The readable bytes of {@code buf} as a {@link ByteBuffer} of their own, from position 0: for
   * the bodies {@link StartFrames} reads; {@link #consumed} then moves {@code buf} past them.
   */
  static ByteBuffer view(ByteBuf buf) {
    return buf.nioBuffer().slice();
  }

  /** Skips in {@code buf} what was read of its {@link #view}, and returns {@code read}. */
  static <M> M consumed(ByteBuf buf, ByteBuffer view, M read) {
    buf.skipBytes(view.position());
    return read;
  }

  static void writeString(ByteBuf buf, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    buf.writeInt(b.length);
    buf.writeBytes(b);
  }

  static String readString(ByteBuf buf) {
    int n = readLength(buf, 1);
    String s = buf.toString(buf.readerIndex(), n, StandardCharsets.UTF_8);
    buf.skipBytes(n);
    return s;
  }

  static void writePayload(ByteBuf buf, Payload p) {
    buf.writeInt(p.size());
    buf.writeBytes(p.unsafeArray());
  }

  static Payload readPayload(ByteBuf buf) {
    int n = readLength(buf, 1);
    byte[] b = new byte[n];
    buf.readBytes(b);
    return Payload.wrap(b);
  }

  static void writeBool(ByteBuf buf, boolean v) {
    buf.writeByte(v ? 1 : 0);
  }

  static boolean readBool(ByteBuf buf) {
    int b = buf.readUnsignedByte();
    if (b > 1) {
      throw new CorruptedFrameException("bad boolean " + b);
    }
    return b == 1;
  }

  static void writeStringList(ByteBuf buf, List<String> list) {
    buf.writeInt(list.size());
    for (String s : list) {
      writeString(buf, s);
    }
  }

  static List<String> readStringList(ByteBuf buf) {
    int n = readLength(buf, 4);
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readString(buf));
    }
    return List.copyOf(out);
  }

  static void writeStringMap(ByteBuf buf, Map<String, String> map) {
    buf.writeInt(map.size());
    for (Map.Entry<String, String> e : map.entrySet()) {
      writeString(buf, e.getKey());
      writeString(buf, e.getValue());
    }
  }

  static Map<String, String> readStringMap(ByteBuf buf) {
    int n = readLength(buf, 8);
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String k = readString(buf);
      if (out.put(k, readString(buf)) != null) {
        throw new CorruptedFrameException("duplicate key in map");
      }
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  static int readPort(ByteBuf buf) {
    int port = buf.readUnsignedShort();
    if (port == 0) {
      throw new CorruptedFrameException("port 0");
    }
    return port;
  }

  static <T> void writeResult(ByteBuf buf, RemoteResult<T> r, BiConsumer<ByteBuf, T> okWriter) {
    if (r instanceof RemoteResult.Ok<T> ok) {
      buf.writeByte(0);
      okWriter.accept(buf, ok.value());
    } else {
      buf.writeByte(1);
      writeError(buf, ((RemoteResult.Err<T>) r).error());
    }
  }

  static <T> RemoteResult<T> readResult(ByteBuf buf, Function<ByteBuf, T> okReader) {
    int kind = buf.readUnsignedByte();
    if (kind == 0) {
      return RemoteResult.ok(okReader.apply(buf));
    }
    if (kind == 1) {
      return RemoteResult.err(readError(buf));
    }
    throw new CorruptedFrameException("bad result kind " + kind);
  }

  // Error codes: stable, never reused. 1 NotFound, 2 PortAlreadyStolen, 3 RemoteIo,
  // 4 NotImplemented, 5 Forbidden, 6 PortConflict (since 1.5).
  static void writeError(ByteBuf buf, ResponseError e) {
    if (e instanceof ResponseError.NotFound nf) {
      buf.writeByte(1);
      writeString(buf, nf.what());
    } else if (e instanceof ResponseError.PortAlreadyStolen p) {
      buf.writeByte(2);
      buf.writeShort(p.port());
    } else if (e instanceof ResponseError.RemoteIo io) {
      buf.writeByte(3);
      buf.writeInt(io.errno());
      writeString(buf, io.message());
    } else if (e instanceof ResponseError.NotImplemented ni) {
      buf.writeByte(4);
      writeString(buf, ni.feature());
    } else if (e instanceof ResponseError.Forbidden f) {
      buf.writeByte(5);
      writeString(buf, f.message());
    } else if (e instanceof ResponseError.PortConflict c) {
      buf.writeByte(6);
      buf.writeShort(c.port());
      writeString(buf, c.message());
    } else {
      throw new IllegalArgumentException("no wire code for " + e.getClass());
    }
  }

  static ResponseError readError(ByteBuf buf) {
    int code = buf.readUnsignedByte();
    switch (code) {
      case 1:
        return new ResponseError.NotFound(readString(buf));
      case 2:
        return new ResponseError.PortAlreadyStolen(readPort(buf));
      case 3:
        return new ResponseError.RemoteIo(buf.readInt(), readString(buf));
      case 4:
        return new ResponseError.NotImplemented(readString(buf));
      case 5:
        return new ResponseError.Forbidden(readString(buf));
      case 6:
        return new ResponseError.PortConflict(readPort(buf), readString(buf));
      default:
        throw new CorruptedFrameException("unknown error code " + code);
    }
  }

  /** {@code u32 count + (name, value)} strings, in order. */
  static void writeHeaders(ByteBuf buf, List<Http.Header> headers) {
    buf.writeInt(headers.size());
    for (Http.Header h : headers) {
      writeString(buf, h.name());
      writeString(buf, h.value());
    }
  }

  static List<Http.Header> readHeaders(ByteBuf buf) {
    int n = readLength(buf, 8);
    List<Http.Header> out = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new Http.Header(readString(buf), readString(buf)));
    }
    return out;
  }

  // Filter kinds: stable, never reused. 1 header, 2 path, 3 method, 4 all_of, 5 any_of.
  static void writeFilter(ByteBuf buf, Http.Filter f) {
    if (f instanceof Http.Filter.Header h) {
      buf.writeByte(1);
      writeString(buf, h.regex());
    } else if (f instanceof Http.Filter.Path p) {
      buf.writeByte(2);
      writeString(buf, p.regex());
    } else if (f instanceof Http.Filter.Method m) {
      buf.writeByte(3);
      writeString(buf, m.method());
    } else if (f instanceof Http.Filter.AllOf a) {
      buf.writeByte(4);
      writeFilters(buf, a.filters());
    } else if (f instanceof Http.Filter.AnyOf a) {
      buf.writeByte(5);
      writeFilters(buf, a.filters());
    } else {
      throw new IllegalArgumentException("no wire kind for " + f.getClass());
    }
  }

  private static void writeFilters(ByteBuf buf, List<Http.Filter> filters) {
    buf.writeInt(filters.size());
    filters.forEach(f -> writeFilter(buf, f));
  }

  static Http.Filter readFilter(ByteBuf buf) {
    return readFilter(buf, 1);
  }

  private static Http.Filter readFilter(ByteBuf buf, int depth) {
    if (depth > Http.MAX_FILTER_DEPTH) {
      throw new CorruptedFrameException("HTTP filter nested deeper than " + Http.MAX_FILTER_DEPTH);
    }
    int kind = buf.readUnsignedByte();
    switch (kind) {
      case 1:
        return new Http.Filter.Header(readString(buf));
      case 2:
        return new Http.Filter.Path(readString(buf));
      case 3:
        return new Http.Filter.Method(readString(buf));
      case 4:
      case 5: {
        int n = readLength(buf, 1);
        if (n == 0) {
          throw new CorruptedFrameException("empty " + (kind == 4 ? "all_of" : "any_of") + " filter");
        }
        List<Http.Filter> fs = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          fs.add(readFilter(buf, depth + 1));
        }
        return kind == 4 ? new Http.Filter.AllOf(fs) : new Http.Filter.AnyOf(fs);
      }
      default:
        throw new CorruptedFrameException("unknown HTTP filter kind " + kind);
    }
  }

  /** Reads a u32 count of items each at least {@code minItemSize} bytes, checked against the frame. */
  private static int readLength(ByteBuf buf, int minItemSize) {
    int n = buf.readInt();
    if (n < 0 || (long) n * minItemSize > buf.readableBytes()) {
      throw new CorruptedFrameException(
          "length " + n + " exceeds the " + buf.readableBytes() + " bytes left in the frame");
    }
    return n;
  }
}
