package dev.mirrord.jvm.layer.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HookResultTest {
  @Test
  void handledIsNoBypass() {
    assertThat(HookResult.HANDLED.isBypass()).isFalse();
    assertThat(HookResult.HANDLED.reason()).isEqualTo(HookResult.Reason.NONE);
    assertThat(HookResult.HANDLED).hasToString("HANDLED");
  }

  @ParameterizedTest
  @EnumSource(value = HookResult.Reason.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
  void aBypassCarriesItsReason(HookResult.Reason reason) {
    HookResult r = HookResult.bypass(reason);
    assertThat(r.isBypass()).isTrue();
    assertThat(r.reason()).isEqualTo(reason);
    assertThat(r).hasToString("bypass:" + reason).isSameAs(HookResult.bypass(reason));
  }

  @Test
  void aBypassNeedsAReason() {
    assertThatThrownBy(() -> HookResult.bypass(HookResult.Reason.NONE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HookResult.bypass(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
