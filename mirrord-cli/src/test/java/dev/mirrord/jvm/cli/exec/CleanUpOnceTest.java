package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CleanUpOnceTest {
  @Test
  void aSecondCallerWaitsUntilTheFirstOnesCleanUpHasEnded() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    CleanUpOnce once = new CleanUpOnce(() -> {
      runs.incrementAndGet();
      inside.countDown();
      await(release);
    }, Duration.ofSeconds(10));

    CompletableFuture<Boolean> main = CompletableFuture.supplyAsync(once::run);
    assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Boolean> hook = CompletableFuture.supplyAsync(once::run);

    Thread.sleep(200);
    assertThat(hook).as("the hook waits while the main path cleans up").isNotDone();
    release.countDown();
    assertThat(hook.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(main.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(runs).hasValue(1);
    assertThat(once.run()).as("a later call returns at once").isTrue();
    assertThat(runs).hasValue(1);
  }

  @Test
  void theWaitIsBounded() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CleanUpOnce once = new CleanUpOnce(() -> {
      inside.countDown();
      await(release);
    }, Duration.ofMillis(100));
    CompletableFuture<Boolean> main = CompletableFuture.supplyAsync(once::run);
    assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();

    long t0 = System.nanoTime();
    assertThat(once.run()).as("not ended within the bound").isFalse();
    assertThat(System.nanoTime() - t0).isBetween(90_000_000L, 5_000_000_000L);
    release.countDown();
    assertThat(main.get(5, TimeUnit.SECONDS)).isTrue();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
