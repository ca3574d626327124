package dev.mirrord.jvm.layer.transport;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NettyLogBridgeTest {
  @Test
  void substitutesPlaceholdersInOrder() {
    assertThat(NettyLogBridge.format("a {} b {} c", new Object[] {1, "x"})).isEqualTo("a 1 b x c");
  }

  @Test
  void leavesExtraPlaceholdersAndIgnoresExtraArguments() {
    assertThat(NettyLogBridge.format("{} and {}", new Object[] {1})).isEqualTo("1 and {}");
    assertThat(NettyLogBridge.format("none", new Object[] {1, 2})).isEqualTo("none");
    assertThat(NettyLogBridge.format(null, new Object[0])).isEqualTo("null");
  }
}
