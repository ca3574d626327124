package dev.mirrord.jvm.layer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PidTest {
  @Test
  void isTheProcessIdTheJdkKnows() {
    assertThat(Pid.current()).isEqualTo(ProcessHandle.current().pid());
  }

  @Test
  void onlyDecimalDigitsAreAPid() {
    assertThat(Pid.digits("4242")).isTrue();
    assertThat(Pid.digits("")).isFalse();
    assertThat(Pid.digits("self")).isFalse();
    assertThat(Pid.digits("12a")).isFalse();
    assertThat(Pid.digits("-1")).isFalse();
    assertThat(Pid.digits("1234567890123456789")).as("longer than a long's safe digits").isFalse();
  }
}
