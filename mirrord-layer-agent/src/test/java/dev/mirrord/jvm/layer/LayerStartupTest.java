package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LayerStartupTest {
  @Test
  void thePeerNameCarriesPidAndTheFirstWordOfTheCommand() {
    String peer = LayerStartup.peerName();
    assertThat(peer).startsWith("layer pid=" + ProcessHandle.current().pid());
    assertThat(peer.split(" ")).hasSizeLessThanOrEqualTo(3);
  }

  @Test
  void theVersionIsDevOutsideTheJar() {
    assertThat(LayerStartup.version()).isNotBlank();
  }
}
