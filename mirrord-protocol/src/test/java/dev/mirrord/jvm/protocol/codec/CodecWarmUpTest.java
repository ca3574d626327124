package dev.mirrord.jvm.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CodecWarmUpTest {
  @Test
  void theWarmUpRoundTripsTheHandshakesMessagesThroughTheRealCodec() {
    // false if any message failed to encode or decode on its receiving side; a leaked buffer shows under the
    // build's paranoid leak detection
    assertThat(CodecWarmUp.run()).isTrue();
  }

  /** The CLI starts it in main for a session, and ExecSession asks again: one thread runs it. */
  @Test
  void onlyTheFirstStartStartsIt() {
    CodecWarmUp.startInBackground(); // this JVM's first, or a no-op if another test started it
    assertThat(CodecWarmUp.startInBackground()).isFalse();
    assertThat(CodecWarmUp.startInBackground()).isFalse();
  }
}
