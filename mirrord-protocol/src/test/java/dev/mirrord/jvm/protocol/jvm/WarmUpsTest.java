package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class WarmUpsTest {
  @Test
  void awaitReturnsOnceEveryStartedWarmUpHasEnded() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    Thread t = WarmUps.start("warm-up-test", () -> {
      try {
        release.await();
        done.set(true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(t.isDaemon()).isTrue();
    assertThat(t.getName()).isEqualTo("warm-up-test");

    assertThat(WarmUps.await(100)).as("a warm-up still blocked").isFalse();
    assertThat(done).isFalse();

    new Thread(() -> {
      try {
        TimeUnit.MILLISECONDS.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
      release.countDown();
    }).start();
    assertThat(WarmUps.await(20_000)).isTrue();
    assertThat(done).as("await returned after the warm-up's work").isTrue();
    assertThat(t.isAlive()).isFalse();
  }

  @Test
  void outsideATrainingRunNothingIsAwaited() {
    assertThat(WarmUps.recording()).isFalse();
    CountDownLatch never = new CountDownLatch(1);
    Thread t = WarmUps.start("warm-up-test-blocked", () -> {
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    long t0 = System.nanoTime();
    WarmUps.awaitIfRecording(5_000);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(4_000);
    never.countDown();
  }

  @Test
  void theRecordFlagsTellTheJvmItRecords() {
    assertThat(AotCache.recordFlags(java.nio.file.Path.of("/tmp/x.aotconf")))
        .contains("-XX:AOTMode=record", "-D" + WarmUps.RECORDING_PROPERTY + "=true");
  }
}
