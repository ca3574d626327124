package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the CLI tells a JVM's connections apart from another JVM's: the pid in their Hello's peer name. */
class LayerConnectionHandlerTest {

  @Test
  void theLayersPidIsReadFromItsPeerName() {
    assertThat(LayerConnectionHandler.layerPid("layer pid=4711 app.Main")).isEqualTo(4711);
    assertThat(LayerConnectionHandler.layerPid("layer pid=4711 app.Main (connects)")).isEqualTo(4711);
    assertThat(LayerConnectionHandler.layerPid("layer pid=4711")).isEqualTo(4711);
  }

  @Test
  void aPeerNameWithoutOneHasNone() {
    assertThat(LayerConnectionHandler.layerPid("layer a")).isEqualTo(-1);
    assertThat(LayerConnectionHandler.layerPid("layer pid=")).isEqualTo(-1);
    assertThat(LayerConnectionHandler.layerPid("layer pid=x1")).isEqualTo(-1);
    assertThat(LayerConnectionHandler.layerPid("layer pid=1234567890123456789012")).isEqualTo(-1);
    assertThat(LayerConnectionHandler.layerPid("cli 0.1.0 layer pid=12")).isEqualTo(-1);
  }
}
