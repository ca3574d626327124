package dev.mirrord.jvm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProtocolVersionTest {
  @Test
  void same_major_is_compatible_and_negotiates_the_smaller_minor() {
    ProtocolVersion a = new ProtocolVersion(1, 3);
    ProtocolVersion b = new ProtocolVersion(1, 1);
    assertThat(a.compatibleWith(b)).isTrue();
    assertThat(a.negotiate(b)).isEqualTo(b);
    assertThat(b.negotiate(a)).isEqualTo(b);
  }

  @Test
  void a_different_major_is_incompatible() {
    assertThat(new ProtocolVersion(2, 0).compatibleWith(ProtocolVersion.CURRENT)).isFalse();
  }

  @Test
  void payload_equality_is_by_content_and_toString_hides_bytes() {
    Payload p = Payload.copyOf(new byte[] {'s', 'e', 'c'});
    assertThat(p).isEqualTo(Payload.wrap(new byte[] {'s', 'e', 'c'}));
    assertThat(p.toString()).isEqualTo("Payload[3 bytes]");
  }
}
