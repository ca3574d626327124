package dev.mirrord.jvm.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StartFrames} against the pipeline's codec: the frames a layer's start writes and reads
 * without Netty's buffers are byte for byte the protocol's. (The codec's formats of these messages
 * read and write through StartFrames; their bytes are pinned by MessageCodecTest's golden fixtures.)
 */
class StartFramesTest {
  private static final Set<Class<?>> START_TYPES =
      Set.of(
          Session.Hello.class,
          Session.HelloOk.class,
          Session.HelloRejected.class,
          Target.TargetInfoRequest.class,
          Target.TargetInfo.class);

  static Stream<WireSamples.Sample> startSamples() {
    return Stream.concat(
        WireSamples.all().stream().filter(s -> START_TYPES.contains(s.message().getClass())),
        Stream.of(
            new WireSamples.Sample(
                "hello_utf8", new Session.Hello(ProtocolVersion.CURRENT, "t\u00f6ken", "layer pid=1 \u2603")),
            new WireSamples.Sample(
                "hello_version_above_short", new Session.Hello(new ProtocolVersion(65535, 40000), "", "")),
            new WireSamples.Sample("target_info_empty", new Target.TargetInfo(-1, 0, 0, "", List.of()))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("startSamples")
  void a_start_frame_is_the_codecs_frame(WireSamples.Sample s) {
    Message m = s.message();
    byte[] codec = MessageCodecTest.frameOf(m, m instanceof ClientMessage ? Side.CLIENT : Side.AGENT);
    if (m instanceof ClientMessage c) {
      assertThat(bytes(StartFrames.frame(c))).isEqualTo(codec);
    } else {
      ByteBuffer body = ByteBuffer.wrap(Arrays.copyOfRange(codec, 4, codec.length));
      assertThat(StartFrames.readToLayer(body)).isEqualTo(m);
      assertThat(body.hasRemaining()).isFalse();
    }
  }

  @Test
  void the_start_tags_are_the_tag_tables() {
    assertThat(StartFrames.HELLO_TAG).isEqualTo(WireTags.forType(Session.Hello.class).tag());
    assertThat(StartFrames.TARGET_INFO_REQUEST_TAG).isEqualTo(WireTags.forType(Target.TargetInfoRequest.class).tag());
    assertThat(StartFrames.HELLO_OK_TAG).isEqualTo(WireTags.forType(Session.HelloOk.class).tag());
    assertThat(StartFrames.HELLO_REJECTED_TAG).isEqualTo(WireTags.forType(Session.HelloRejected.class).tag());
    assertThat(StartFrames.TARGET_INFO_TAG).isEqualTo(WireTags.forType(Target.TargetInfo.class).tag());
  }

  @Test
  void any_other_frame_to_a_layer_is_skipped_whole() {
    byte[] pong = MessageCodecTest.frameOf(new Session.Pong(9), Side.AGENT);
    ByteBuffer body = ByteBuffer.wrap(Arrays.copyOfRange(pong, 4, pong.length));
    assertThat(StartFrames.readToLayer(body)).isNull();
    assertThat(body.hasRemaining()).isFalse();
  }

  @Test
  void only_the_start_requests_have_a_start_frame() {
    assertThatThrownBy(() -> StartFrames.frame(new Session.Ping(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Ping");
  }

  @Test
  void every_truncation_and_trailing_byte_is_a_corrupt_frame() {
    Target.TargetInfo info = new Target.TargetInfo(7, 4242, 4026531840L, "pod-0", List.of("198.18.0.10", "fe80::1"));
    byte[] frame = MessageCodecTest.frameOf(info, Side.AGENT);
    byte[] body = Arrays.copyOfRange(frame, 4, frame.length);
    for (int n = 0; n < body.length; n++) {
      ByteBuffer shorter = ByteBuffer.wrap(Arrays.copyOf(body, n));
      assertThatThrownBy(() -> StartFrames.readToLayer(shorter))
          .as("the first %d of %d bytes", n, body.length)
          .isInstanceOf(CorruptedFrameException.class);
    }
    ByteBuffer longer = ByteBuffer.wrap(Arrays.copyOf(body, body.length + 1));
    assertThatThrownBy(() -> StartFrames.readToLayer(longer))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("1 trailing bytes");
  }

  @Test
  void a_list_count_larger_than_the_frame_is_rejected_before_allocating() {
    ByteBuffer b = ByteBuffer.allocate(64);
    b.putShort((short) StartFrames.TARGET_INFO_TAG).putLong(1).putInt(2).putLong(3);
    b.putInt(0); // host name ""
    b.putInt(Integer.MAX_VALUE); // address count lie
    assertThatThrownBy(() -> StartFrames.readToLayer(b.flip()))
        .isInstanceOf(CorruptedFrameException.class)
        .hasMessageContaining("exceeds");
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
