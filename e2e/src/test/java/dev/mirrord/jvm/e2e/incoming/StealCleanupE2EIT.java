package dev.mirrord.jvm.e2e.incoming;

import static dev.mirrord.jvm.e2e.incoming.IncomingLab.POD_PORT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.TinyHttpApp;
import dev.mirrord.jvm.e2e.incoming.StealE2EIT.Kill;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 5's clean-up loop: {@value #DEFAULT_KILLS} steal sessions in a row (every other one HTTP-filtered, issue
 * 15), each ended a different way (SIGINT to
 * {@code mirrord}, {@code kill -9} of the CLI, {@code kill -9} of the agent, in turn). Each time:
 *
 * <ol>
 *   <li>the steal is live first (a new client connection to the pod's 8080 is answered by the local app);
 *   <li>after the kill, new connections are answered by the pod within 2 s;
 *   <li>{@code iptables-save} and {@code ip6tables-save} in the pod show no MIRRORD line (within 2 s of the kill);
 *   <li>no process is left: the agent and its iptables watchdog exit by themselves (nothing of mirrord's in the pod's
 *       namespace), the CLI too after SIGINT; after {@code kill -9} of the agent the CLI ends the app and exits with
 *       its code, 75 ({@code layer.on_disconnect=exit}). After {@code kill -9} of the CLI the app (the user's
 *       process) ends itself within 3 s, and then the dev namespace is empty;
 *   <li>no session dir is left in the temp dir: the CLI removes its own after SIGINT and after the agent's loss; the
 *       one a CLI killed with {@code kill -9} leaves is gone within 5 s of the start of the lane's next app (removed
 *       by that session's sweep, or already by the other lane's), and the sweeps never touch a live session's dir.
 * </ol>
 *
 * Sequential per pod on purpose: an agent's start-up sweep removes chains of dead agents, so a concurrent session on
 * the same pod could hide a leftover of another; {@link #LANES} pods (labs) run side by side instead. The app is {@link TinyHttpApp} (a plain ServerSocket) to keep each iteration short; {@code
 * bench/steal-kill-loop.sh} runs 100.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class StealCleanupE2EIT {
  static final int DEFAULT_KILLS = 51;
  static final int KILLS = Integer.getInteger("mirrord.e2e.steal.kills", DEFAULT_KILLS);
  /**
   * Labs (pods) run side by side, each with its own sequential loop: separate network namespaces, so no sweep crosses
   * them. Two fill both cores of the CI machine (one lane leaves about half of them idle).
   */
  static final int LANES = Integer.getInteger("mirrord.e2e.steal.killLanes", 2);
  static final long HAND_BACK_LIMIT_MILLIS = 2000;

  /** {@code leftDir}: the session dir a {@code kill -9} of the CLI left for the next session's sweep, or null. */
  private record Row(int i, Kill kill, long readyMillis, long handBackMillis, long rulesGoneMillis,
      long processesGoneMillis, boolean orphanApp, Path leftDir) {}

  @Test
  void everyKindOfKillLeavesNoRuleAndNoProcess(NetnsLab lab) throws Exception {
    List<IncomingLab> lanes = new ArrayList<>();
    List<NetnsLab> extraLabs = new ArrayList<>();
    List<Row> rows = java.util.Collections.synchronizedList(new ArrayList<>());
    long t0 = System.nanoTime();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(LANES);
    try {
      lanes.add(new IncomingLab(lab));
      for (int k = 1; k < LANES; k++) {
        NetnsLab extra = NetnsLab.create();
        extraLabs.add(extra);
        lanes.add(new IncomingLab(extra));
      }
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int k = 0; k < LANES; k++) {
        IncomingLab in = lanes.get(k);
        int lane = k;
        done.add(pool.submit(() -> {
          String local = in.devNamespace("local");
          Path leftDir = null;
          for (int i = lane; i < KILLS; i += LANES) {
            Kill kill = Kill.values()[i % Kill.values().length];
            Row row = iteration(in, local, i, kill, leftDir);
            leftDir = row.leftDir();
            rows.add(row);
            System.out.printf(Locale.ROOT, "[kill-loop] %3d %-12s lab %s: ready %5d ms, pod answers %4d ms after the"
                    + " kill, rules gone %4d ms, processes gone %4d ms%s%n", i, kill, in.lab().prefix(),
                row.readyMillis(), row.handBackMillis(), row.rulesGoneMillis(), row.processesGoneMillis(),
                row.orphanApp() ? " (app orphaned, ended by the test)" : "");
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          extraLabs.forEach(NetnsLab::markFailed);
          throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(30, TimeUnit.SECONDS);
      extraLabs.forEach(NetnsLab::close);
    }
    System.out.println(summary(rows, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)));
    assertThat(rows).hasSize(KILLS);
    IncomingLab first = lanes.get(0);
    assertThat(first.mirrordRules()).isEmpty();
    assertThat(first.mirrordProcessesInPod()).isEmpty();
  }

  private static Row iteration(IncomingLab in, String local, int i, Kill kill, Path leftByThePrevious) {
    long start = System.nanoTime();
    // Every other session steals with an HTTP filter (issue 15) that matches every request: the same checks then
    // cover the filtered listener, its pass-through exemptions and its rule comments.
    List<String> steal = i % 2 == 1 ? List.of("--http-path-filter", "^/") : List.of("--tcp-steal");
    try (MirrordSession s = in.mirrord(local, steal,
        IncomingLab.java(TinyHttpApp.class, Integer.toString(POD_PORT), "local", "60"))) {
      try {
        s.awaitApp("^" + TinyHttpApp.READY_PREFIX, IncomingLab.START);
        long ready = millisSince(start);
        Path sessionDir = s.sessionDir().orElseThrow(() -> new AssertionError("no session dir in the CLI's log"));
        assertThat(sessionDir).as("this session's dir").isDirectory();
        if (leftByThePrevious != null) {
          within(System.nanoTime(), 5000, "sweep of the dir the kill -9 of the previous CLI left, "
              + leftByThePrevious, () -> !Files.exists(leftByThePrevious));
        }
        assertThat(in.curlPod(POD_PORT, "/it" + i, Duration.ofSeconds(5))).as("stolen before the kill")
            .isEqualTo("hello from local: GET /it" + i + "\n");
        assertThat(s.agentPid()).as("agent pid").isPositive();
        assertThat(s.watchdogPid()).as("watchdog pid").isPositive();

        assertThat(sessionDir).as("this session's dir, while it runs (the other lane's sessions swept meanwhile)")
            .isDirectory();
        long killedAt = System.nanoTime();
        switch (kill) {
          case SIGINT_CLI -> s.signalCli("INT");
          case KILL_9_CLI -> s.signalCli("KILL");
          case KILL_9_AGENT -> s.killAgent();
        }
        long handBack = within(killedAt, HAND_BACK_LIMIT_MILLIS, "the pod answering a new connection",
            () -> in.curlPod(POD_PORT, "/back" + i, Duration.ofMillis(500)).startsWith("hello from pod: GET /back"));
        long rulesGone = within(killedAt, 2000, "no MIRRORD rule in the pod", () -> in.mirrordRules().isEmpty());
        long processesGone = within(killedAt, 10_000, "the agent and its watchdog exiting",
            () -> !IncomingLab.alive(s.agentPid()) && !IncomingLab.alive(s.watchdogPid())
                && in.mirrordProcessesInPod().isEmpty());
        boolean orphan = false;
        switch (kill) {
          case SIGINT_CLI -> s.process().waitFor(Duration.ofSeconds(10));
          case KILL_9_CLI -> {
            // the layer ends the app (layer.on_disconnect=exit) within 3 s of the kill
            within(killedAt, 3000, "the app exiting", () -> !IncomingLab.alive(s.appPid()));
            orphan = false;
          }
          case KILL_9_AGENT -> {
            // the CLI ends the session: the app exits with 75, and so does mirrord
            assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code").isEqualTo(75);
          }
        }
        within(killedAt, 15_000, "no process of the session left",
            () -> s.liveProcesses().isEmpty() && IncomingLab.processesIn(local).isEmpty());
        assertThat(in.mirrordRules()).as("rules after the session").isEmpty();
        if (kill != Kill.KILL_9_CLI) { // that one stays until a session's sweep, maybe the other lane's already
          assertThat(sessionDir).as("the session dir once the CLI has exited").doesNotExist();
        }
        return new Row(i, kill, ready, handBack, rulesGone, processesGone, orphan,
            kill == Kill.KILL_9_CLI ? sessionDir : null);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("iteration " + i + " (" + kill + "): " + e.getMessage() + "\n"
            + "session processes: " + s.liveProcesses() + "\nin the dev namespace: " + IncomingLab.processesIn(local)
            + "\nmirrord in the pod: " + in.mirrordProcessesInPod() + "\nrules: " + in.mirrordRules() + "\n"
            + s.outputForHumans(), e);
      }
    }
  }

  /** Polls {@code condition} until true; returns the ms since {@code sinceNanos}; fails past {@code limitMillis}. */
  private static long within(long sinceNanos, long limitMillis, String what, Supplier<Boolean> condition) {
    while (true) {
      if (condition.get()) {
        return millisSince(sinceNanos);
      }
      long elapsed = millisSince(sinceNanos);
      if (elapsed > limitMillis) {
        throw new AssertionError("no " + what + " within " + limitMillis + " ms of the kill");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static String summary(List<Row> rows, long totalMillis) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "[kill-loop] %d sessions in %.1f s: 0 leftover rules, 0 leftover processes%n"
            + "[kill-loop] %-12s %5s %14s %14s %14s %14s%n", rows.size(), totalMillis / 1000.0, "kill", "n",
        "pod back p50", "pod back max", "rules gone max", "procs gone max"));
    Map<Kill, List<Row>> byKill = new EnumMap<>(Kill.class);
    rows.forEach(r -> byKill.computeIfAbsent(r.kill(), k -> new ArrayList<>()).add(r));
    byKill.forEach((k, list) -> {
      long[] back = list.stream().mapToLong(Row::handBackMillis).sorted().toArray();
      s.append(String.format(Locale.ROOT, "[kill-loop] %-12s %5d %11d ms %11d ms %11d ms %11d ms%n", k, list.size(),
          back[back.length / 2], back[back.length - 1],
          list.stream().mapToLong(Row::rulesGoneMillis).max().orElse(0),
          list.stream().mapToLong(Row::processesGoneMillis).max().orElse(0)));
    });
    return s.toString();
  }
}
