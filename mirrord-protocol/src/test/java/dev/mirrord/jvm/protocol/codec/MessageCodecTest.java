package dev.mirrord.jvm.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class MessageCodecTest {
  private static final Path FIXTURES = Path.of("src/test/resources/wire");

  static Stream<WireSamples.Sample> samples() {
    return WireSamples.all().stream();
  }

  /** Encodes one message into a whole frame, length prefix included, as the pipeline does. */
  static byte[] frameOf(Message m, Side sender) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.install(ch.pipeline(), sender, new ChannelInboundHandlerAdapter());
    ch.writeOutbound(m);
    ByteBuf out = Unpooled.buffer();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      out.writeBytes(b);
      b.release();
    }
    ch.finishAndReleaseAll();
    byte[] bytes = ByteBufUtil.getBytes(out);
    out.release();
    return bytes;
  }

  static Side receiverOf(Message m) {
    return m instanceof ClientMessage ? Side.AGENT : Side.CLIENT;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void frame_matches_its_golden_fixture(WireSamples.Sample s) throws IOException {
    Path fixture = FIXTURES.resolve(s.name() + ".hex");
    byte[] frame = frameOf(s.message(), receiverOf(s.message()) == Side.AGENT ? Side.CLIENT : Side.AGENT);
    String hex = ByteBufUtil.hexDump(frame);
    if (Boolean.getBoolean("mirrord.wire.write-fixtures") && !Files.exists(fixture)) {
      Files.writeString(fixture, hex + "\n");
    }
    assertThat(fixture).as("golden fixture (write new ones with -Dmirrord.wire.write-fixtures=true)").exists();
    assertThat(hex).isEqualTo(Files.readString(fixture, StandardCharsets.US_ASCII).trim());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void golden_bytes_decode_at_every_split_point(WireSamples.Sample s) {
    byte[] frame = frameOf(s.message(), Side.AGENT);
    for (boolean relaying : new boolean[] {false, true}) {
      for (Side receiver : receiversOf(s.message())) {
        for (int split = 0; split < frame.length; split++) {
          EmbeddedChannel ch = relaying ? relaying(receiver) : receiving(receiver);
          ch.writeInbound(Unpooled.wrappedBuffer(frame, 0, split));
          assertThat((Object) ch.readInbound()).isNull();
          ch.writeInbound(Unpooled.wrappedBuffer(frame, split, frame.length - split));
          Object got = ch.readInbound();
          if (relaying && s.message() instanceof Tcp.Data d) {
            // A relaying connection hands data on as a slice of what it read, not as a record.
            assertThat(got).isInstanceOf(DataFrame.class);
            assertThat(((DataFrame) got).connectionId()).isEqualTo(d.connectionId());
            got = ((DataFrame) got).toMessage();
          }
          assertThat(got).isEqualTo(s.message());
          assertThat(ch.finish()).isFalse();
        }
      }
    }
  }

  @ParameterizedTest(name = "{0} bytes")
  @org.junit.jupiter.params.provider.ValueSource(
      ints = {1, MessageCodec.COPY_BELOW - 1, MessageCodec.COPY_BELOW, Tcp.MAX_CHUNK})
  void a_data_frame_built_around_a_buffer_is_the_same_frame_as_the_encoded_message(int size) {
    byte[] bytes = new byte[size];
    new java.util.Random(size).nextBytes(bytes);
    Tcp.Data message = new Tcp.Data(0x4000_0000_0000_0007L, dev.mirrord.jvm.protocol.Payload.copyOf(bytes));

    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.install(ch.pipeline(), Side.AGENT, new ChannelInboundHandlerAdapter());
    ByteBuf source = ch.alloc().directBuffer(size + 2).writeByte(0xAA).writeBytes(bytes).writeByte(0xBB);
    source.skipBytes(1);
    ByteBuf chunk = source.readRetainedSlice(size);
    source.release();
    MessageCodec.writeData(ch, message.connectionId(), chunk);
    ByteBuf out = Unpooled.buffer();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      out.writeBytes(b);
      b.release();
    }
    assertThat(ByteBufUtil.getBytes(out)).isEqualTo(frameOf(message, Side.AGENT));
    assertThat(chunk.refCnt()).isZero();

    EmbeddedChannel receiver = receiving(Side.CLIENT);
    receiver.writeInbound(out);
    assertThat((Object) receiver.readInbound()).isEqualTo(message);
    assertThat(receiver.finish()).isFalse();
    assertThat(ch.finish()).isFalse();
  }

  @ParameterizedTest(name = "{0} bytes")
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 4095, 65_536, Tcp.MAX_CHUNK})
  void a_relaying_connection_hands_on_data_as_slices_of_what_it_read_and_frees_them_on_release(int size) {
    java.util.Random random = new java.util.Random(size);
    List<byte[]> chunks = new ArrayList<>();
    ByteBuf wire = Unpooled.buffer();
    for (int i = 0; i < 3; i++) {
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      chunks.add(bytes);
      wire.writeBytes(frameOf(new Tcp.Data(i + 1, dev.mirrord.jvm.protocol.Payload.copyOf(bytes)), Side.AGENT));
      wire.writeBytes(frameOf(new Tcp.Flow(i + 1, true), Side.AGENT));
    }
    EmbeddedChannel ch = relaying(Side.CLIENT);
    // Split as a socket would: pieces that cut frames anywhere, each a pooled direct read buffer.
    List<ByteBuf> reads = new ArrayList<>();
    while (wire.isReadable()) {
      int n = Math.min(wire.readableBytes(), 1 + random.nextInt(Math.max(1, size / 2 + 64)));
      ByteBuf read = ch.alloc().directBuffer(n).writeBytes(wire, n);
      reads.add(read);
      ch.writeInbound(read);
    }
    wire.release();
    for (int i = 0; i < 3; i++) {
      DataFrame f = ch.readInbound();
      assertThat(f.connectionId()).isEqualTo(i + 1);
      assertThat(ByteBufUtil.getBytes(f.content())).isEqualTo(chunks.get(i));
      f.release();
      assertThat((Object) ch.readInbound()).isEqualTo(new Tcp.Flow(i + 1, true));
    }
    assertThat(ch.finish()).isFalse();
    assertThat(reads).as("every read buffer freed once its frames are released")
        .allMatch(b -> b.refCnt() == 0);
  }

  @Test
  void a_relaying_connection_rejects_malformed_data_frames() {
    ByteBuf header = Unpooled.buffer().writeShort(0x0103).writeLong(7);
    byte[] shortHeader = frameBytes(ByteBufUtil.getBytes(header));
    byte[] longer = frameBytes(ByteBufUtil.getBytes(header.copy().writeInt(5).writeBytes(new byte[4])));
    byte[] trailing = frameBytes(ByteBufUtil.getBytes(header.copy().writeInt(2).writeBytes(new byte[4])));
    byte[] negative = frameBytes(ByteBufUtil.getBytes(header.copy().writeInt(-1)));
    header.release();
    for (byte[] frame : List.of(shortHeader, longer, trailing, negative)) {
      EmbeddedChannel ch = relaying(Side.AGENT);
      assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(frame)))
          .isInstanceOf(DecoderException.class)
          .hasMessageContaining("Data: ");
      ch.finishAndReleaseAll();
    }
  }

  private static byte[] frameBytes(byte[] body) {
    ByteBuf b = Unpooled.buffer().writeInt(body.length).writeBytes(body);
    byte[] bytes = ByteBufUtil.getBytes(b);
    b.release();
    return bytes;
  }

  @Test
  void writing_data_to_a_closed_connection_releases_the_bytes() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.install(ch.pipeline(), Side.AGENT, new ChannelInboundHandlerAdapter());
    ch.close();
    ByteBuf chunk = Unpooled.directBuffer(8).writeLong(1);
    MessageCodec.writeData(ch, 7, chunk);
    assertThat(chunk.refCnt()).isZero();
    ByteBuf other = Unpooled.directBuffer(1).writeByte(1);
    MessageCodec.writeData(null, 7, other);
    assertThat(other.refCnt()).isZero();
  }

  @Test
  void many_frames_fed_byte_by_byte_come_out_in_order() {
    List<Message> sent = new ArrayList<>();
    ByteBuf all = Unpooled.buffer();
    for (WireSamples.Sample s : WireSamples.all()) {
      if (s.message() instanceof AgentMessage) {
        sent.add(s.message());
        all.writeBytes(frameOf(s.message(), Side.AGENT));
      }
    }
    EmbeddedChannel ch = receiving(Side.CLIENT);
    while (all.isReadable()) {
      ch.writeInbound(all.readRetainedSlice(1));
    }
    all.release();
    List<Object> got = new ArrayList<>();
    for (Object o; (o = ch.readInbound()) != null; ) {
      got.add(o);
    }
    assertThat(got).containsExactlyElementsOf(sent);
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void every_message_class_has_exactly_one_tag_and_sample() {
    Set<Class<?>> sampled = new HashSet<>();
    WireSamples.all().forEach(s -> sampled.add(s.message().getClass()));
    Set<Class<?>> tagged = new HashSet<>();
    WireTags.all().values().forEach(e -> tagged.add(e.type()));
    assertThat(sampled).isEqualTo(tagged);
    for (Class<?> root : List.of(ClientMessage.class, AgentMessage.class)) {
      assertThat(tagged).contains(root.getPermittedSubclasses());
    }
  }

  @Test
  void tags_say_their_direction() {
    WireTags.all().values().forEach(e -> {
      if (e.clientToAgent() && !e.agentToClient()) {
        assertThat(e.tag()).as(e.type().getName()).isLessThan(0x8000);
      } else if (e.agentToClient() && !e.clientToAgent()) {
        assertThat(e.tag()).as(e.type().getName()).isGreaterThanOrEqualTo(0x8000);
      }
    });
  }

  @Test
  void a_message_for_the_other_direction_is_rejected() {
    byte[] frame = frameOf(new Session.HelloOk(ProtocolVersion.CURRENT, "x"), Side.AGENT);
    EmbeddedChannel ch = receiving(Side.AGENT);
    assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(frame)))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("not allowed towards the agent side");
    ch.finishAndReleaseAll();
  }

  @Test
  void unknown_tag_trailing_bytes_and_short_bodies_are_corrupt_frames() {
    assertCorrupt(new byte[] {0, 0, 0, 2, (byte) 0x7f, (byte) 0xff}, "unknown message tag 0x7fff");
    byte[] ping = frameOf(new Session.Ping(1), Side.CLIENT);
    byte[] longer = new byte[ping.length + 1];
    System.arraycopy(ping, 0, longer, 0, ping.length);
    longer[3]++;
    assertCorrupt(longer, "1 trailing bytes");
    byte[] shorter = java.util.Arrays.copyOf(ping, ping.length - 1);
    shorter[3]--;
    assertCorrupt(shorter, "Ping");
  }

  @Test
  void a_string_length_larger_than_the_frame_is_rejected_before_allocating() {
    ByteBuf b = Unpooled.buffer();
    b.writeInt(0); // length placeholder
    b.writeShort(0x0001); // Hello
    b.writeShort(1).writeShort(0);
    b.writeInt(Integer.MAX_VALUE); // token length lie
    b.setInt(0, b.readableBytes() - 4);
    assertCorrupt(ByteBufUtil.getBytes(b), "exceeds");
    b.release();
  }

  @Test
  void an_oversize_frame_header_is_rejected_without_buffering() {
    EmbeddedChannel ch = receiving(Side.AGENT);
    ByteBuf b = Unpooled.buffer().writeInt(ProtocolPipeline.MAX_FRAME + 1).writeShort(1);
    assertThatThrownBy(() -> ch.writeInbound(b)).isInstanceOf(TooLongFrameException.class);
    ch.finishAndReleaseAll();
  }

  @Test
  void port_zero_is_invalid_on_the_wire_and_in_records() {
    assertThatThrownBy(() -> new Tcp.PortSubscribe(0, dev.mirrord.jvm.protocol.IncomingMode.MIRROR))
        .isInstanceOf(IllegalArgumentException.class);
    ByteBuf b = Unpooled.buffer().writeInt(5).writeShort(0x0101).writeShort(0).writeByte(1);
    assertCorrupt(ByteBufUtil.getBytes(b), "port 0");
    b.release();
  }

  @Test
  void a_dns_lookup_with_an_unknown_address_family_is_a_corrupt_frame() {
    assertThatThrownBy(() -> new dev.mirrord.jvm.protocol.Dns.LookupRequest(1, "svc", 5))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] frame = frameOf(new dev.mirrord.jvm.protocol.Dns.LookupRequest(1, "svc", 4), Side.CLIENT);
    frame[frame.length - 1] = 5;
    assertCorrupt(frame, "address family");
  }

  @Test
  void an_http_filter_nested_too_deep_or_an_empty_list_is_a_corrupt_frame() {
    dev.mirrord.jvm.protocol.Http.Filter f = new dev.mirrord.jvm.protocol.Http.Filter.Path("/x");
    for (int i = 0; i < dev.mirrord.jvm.protocol.Http.MAX_FILTER_DEPTH; i++) {
      f = new dev.mirrord.jvm.protocol.Http.Filter.AllOf(List.of(f));
    }
    assertCorrupt(frameOf(new dev.mirrord.jvm.protocol.Http.SubscribeFiltered(
        8080, dev.mirrord.jvm.protocol.IncomingMode.STEAL, f), Side.CLIENT), "nested deeper");
    // any_of with count 0: u16 port, u8 mode, u8 kind 5, u32 0
    ByteBuf b = Unpooled.buffer().writeInt(2 + 2 + 1 + 1 + 4).writeShort(0x0110).writeShort(8080).writeByte(2)
        .writeByte(5).writeInt(0);
    assertCorrupt(ByteBufUtil.getBytes(b), "empty any_of");
    b.release();
    assertThatThrownBy(() -> new dev.mirrord.jvm.protocol.Http.Filter.AnyOf(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hello_never_prints_its_token() {
    assertThat(new Session.Hello(ProtocolVersion.CURRENT, "s3cret", "x").toString())
        .doesNotContain("s3cret");
  }

  @Test
  void docs_tag_table_lists_every_tag() throws IOException {
    String doc = Files.readString(Path.of("../docs/PROTOCOL.md"));
    WireTags.all().values().forEach(e -> assertThat(doc)
        .as("docs/PROTOCOL.md row for " + e.type().getName())
        .contains(String.format("| 0x%04x | `%s.%s", e.tag(),
            e.type().getEnclosingClass().getSimpleName(), e.type().getSimpleName())));
  }

  private static void assertCorrupt(byte[] frame, String message) {
    EmbeddedChannel ch = receiving(Side.AGENT);
    assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(frame)))
        .isInstanceOf(DecoderException.class)
        .hasMessageContaining(message);
    ch.finishAndReleaseAll();
  }

  private static List<Side> receiversOf(Message m) {
    List<Side> r = new ArrayList<>();
    if (m instanceof ClientMessage) {
      r.add(Side.AGENT);
    }
    if (m instanceof AgentMessage) {
      r.add(Side.CLIENT);
    }
    return r;
  }

  private static EmbeddedChannel relaying(Side side) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.installRelaying(ch.pipeline(), side, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        ctx.fireChannelRead(msg);
      }
    });
    return ch;
  }

  private static EmbeddedChannel receiving(Side side) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ProtocolPipeline.install(ch.pipeline(), side, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        ctx.fireChannelRead(msg);
      }
    });
    return ch;
  }
}
