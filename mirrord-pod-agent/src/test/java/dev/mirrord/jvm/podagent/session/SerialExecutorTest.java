package dev.mirrord.jvm.podagent.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One client's tasks run one at a time, in order, whatever the shared pool does. */
class SerialExecutorTest {

  /** Runs the task it was given last first: the worst order a pool can pick. */
  static final class LifoExecutor implements java.util.concurrent.Executor {
    final List<Runnable> held = new ArrayList<>();

    @Override
    public void execute(Runnable r) {
      held.add(r);
    }

    void runAllNewestFirst() {
      while (!held.isEmpty()) {
        held.remove(held.size() - 1).run();
      }
    }
  }

  @Test
  void anUnsubscribeAndTheSubscribeAfterItApplyInThatOrderEvenOnAPoolThatReordersTheirTasks() {
    LifoExecutor pool = new LifoExecutor();
    List<String> applied = new ArrayList<>();
    SerialExecutor client = new SerialExecutor(pool);

    client.execute(() -> applied.add("unsubscribe 8080"));
    client.execute(() -> applied.add("subscribe 8080"));
    // what the agent did before: both straight on the pool, which may run them the other way round
    pool.execute(() -> applied.add("raw unsubscribe 8080"));
    pool.execute(() -> applied.add("raw subscribe 8080"));
    pool.runAllNewestFirst();

    assertThat(applied)
        .containsExactly("raw subscribe 8080", "raw unsubscribe 8080", "unsubscribe 8080", "subscribe 8080");
  }

  @Test
  void tasksNeverOverlapAndKeepTheirOrderOnAMultiThreadedPool() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      SerialExecutor a = new SerialExecutor(pool);
      SerialExecutor b = new SerialExecutor(pool);
      List<Integer> seenA = new CopyOnWriteArrayList<>();
      List<Integer> seenB = new CopyOnWriteArrayList<>();
      AtomicInteger inA = new AtomicInteger();
      AtomicInteger overlaps = new AtomicInteger();
      CountDownLatch done = new CountDownLatch(2);
      for (int i = 0; i < 2000; i++) {
        int n = i;
        a.execute(
            () -> {
              if (inA.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
              }
              seenA.add(n);
              inA.decrementAndGet();
            });
        b.execute(() -> seenB.add(n));
      }
      a.execute(done::countDown);
      b.execute(done::countDown);

      assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
      assertThat(overlaps.get()).isZero();
      assertThat(seenA).hasSize(2000).isSorted();
      assertThat(seenB).hasSize(2000).isSorted();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFailingTaskDoesNotStopTheNextOnes() {
    LifoExecutor pool = new LifoExecutor();
    SerialExecutor client = new SerialExecutor(pool);
    List<String> ran = new ArrayList<>();

    client.execute(() -> { throw new IllegalStateException("iptables failed"); });
    client.execute(() -> ran.add("next"));
    pool.runAllNewestFirst();

    assertThat(ran).containsExactly("next");
  }

  @Test
  void aShutDownPoolDropsTheTaskAndTheExecutorStaysUsable() {
    ExecutorService dead = Executors.newSingleThreadExecutor();
    dead.shutdownNow();
    SerialExecutor client = new SerialExecutor(dead);

    client.execute(() -> {}); // RejectedExecutionException is swallowed: the agent is stopping

    LifoExecutor pool = new LifoExecutor();
    SerialExecutor other = new SerialExecutor(pool);
    other.execute(() -> {});
    assertThat(pool.held).hasSize(1);
  }
}
