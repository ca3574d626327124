package dev.mirrord.jvm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OutgoingTest {

  @Test
  void theAgentsIdSpacesAreDisjoint() {
    // Mirrored ids count from 1, stolen ones carry bit 62, outgoing ones bit 61: a message for one
    // family must never be taken by another (the CLI and the agent route by these bits).
    assertThat(Outgoing.isOutgoing(Tcp.STEAL_ID_BIT | 1)).isFalse();
    assertThat(Outgoing.isOutgoing(1)).isFalse();
    assertThat(Outgoing.isOutgoing(Outgoing.ID_BIT | 1)).isTrue();
    assertThat(Outgoing.ID_BIT & Tcp.STEAL_ID_BIT).isZero();
  }

  @Test
  void connectedRequiresAnOutgoingId() {
    assertThatThrownBy(() -> new Outgoing.Connected(Tcp.STEAL_ID_BIT | 1, "127.0.0.1", 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
