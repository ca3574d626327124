package dev.mirrord.jvm.e2e.apps;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GrpcBenchClient HOST PORT SECONDS WARMUP_SECONDS PARALLEL EXPECT [X_DEV]}: closed-loop unary calls to {@link
 * GrpcEchoApp} on ONE channel (one HTTP/2 connection), PARALLEL at a time, for WARMUP_SECONDS then SECONDS (bounded);
 * every answer must start with {@code EXPECT:}. Prints one line:
 *
 * <pre>
 *   grpc-bench calls=N rps=R p50_us=P p99_us=Q errors=E
 * </pre>
 *
 * (latencies of the measured calls, by a histogram of 10 µs buckets up to 1 s).
 *
 * <p>{@code GrpcBenchClient ab HOST SECONDS ROUNDS WARMUP_SECONDS PARALLEL A B}, where A and B are each {@code
 * PORT:EXPECT[:X_DEV]}: an interleaved A/B in one JVM (one channel each, so neither side pays this client's JIT
 * warm-up): both are driven alternately for WARMUP_SECONDS each, then ROUNDS rounds of SECONDS each, A first in odd
 * rounds and B first in even ones (so a machine that drifts during the run favours neither). Prints one {@code
 * grpc-ab round=R a_rps=… b_rps=… ratio=…} line per round (ratio = b ÷ a), then {@code grpc-ab median_a_rps=…
 * median_b_rps=… median_ratio=… errors=…}.
 */
public final class GrpcBenchClient {
  private GrpcBenchClient() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("ab")) {
      ab(args);
      return;
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    long warmup = Long.parseLong(args[3]);
    int parallel = Integer.parseInt(args[4]);
    ManagedChannel managed = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
    Channel channel = GrpcMixClient.with(managed, args.length > 6 ? args[6] : null);
    Result r = run(channel, args[5] + ":", warmup, seconds, parallel);
    managed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    System.out.printf("grpc-bench calls=%d rps=%.0f p50_us=%d p99_us=%d errors=%d%n", r.calls, r.rps(),
        percentile(r.histogram, r.calls, 0.50), percentile(r.histogram, r.calls, 0.99), r.errors);
  }

  private static void ab(String[] args) throws InterruptedException {
    String host = args[1];
    long seconds = Long.parseLong(args[2]);
    int rounds = Integer.parseInt(args[3]);
    long warmup = Long.parseLong(args[4]);
    int parallel = Integer.parseInt(args[5]);
    String[] a = args[6].split(":", 3);
    String[] b = args[7].split(":", 3);
    ManagedChannel ma = Grpc.newChannelBuilderForAddress(host, Integer.parseInt(a[0]),
        InsecureChannelCredentials.create()).build();
    ManagedChannel mb = Grpc.newChannelBuilderForAddress(host, Integer.parseInt(b[0]),
        InsecureChannelCredentials.create()).build();
    Channel ca = GrpcMixClient.with(ma, a.length > 2 ? a[2] : null);
    Channel cb = GrpcMixClient.with(mb, b.length > 2 ? b[2] : null);
    run(ca, a[1] + ":", 0, warmup, parallel);
    run(cb, b[1] + ":", 0, warmup, parallel);
    double[] ra = new double[rounds];
    double[] rb = new double[rounds];
    double[] ratio = new double[rounds];
    long errors = 0;
    for (int i = 0; i < rounds; i++) {
      Result x;
      Result y;
      if (i % 2 == 0) {
        x = run(ca, a[1] + ":", 0, seconds, parallel);
        y = run(cb, b[1] + ":", 0, seconds, parallel);
      } else {
        y = run(cb, b[1] + ":", 0, seconds, parallel);
        x = run(ca, a[1] + ":", 0, seconds, parallel);
      }
      errors += x.errors + y.errors;
      ra[i] = x.rps();
      rb[i] = y.rps();
      ratio[i] = ra[i] == 0 ? 0 : rb[i] / ra[i];
      System.out.printf("grpc-ab round=%d a_rps=%.0f b_rps=%.0f ratio=%.2f%n", i + 1, ra[i], rb[i], ratio[i]);
    }
    ma.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    mb.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    System.out.printf("grpc-ab median_a_rps=%.0f median_b_rps=%.0f median_ratio=%.2f errors=%d%n", median(ra),
        median(rb), median(ratio), errors);
  }

  /** The calls of one measured run: PARALLEL threads, WARMUP then SECONDS, each answer checked against EXPECT. */
  private record Result(long calls, long errors, long seconds, AtomicLong[] histogram) {
    double rps() {
      return calls / (double) seconds;
    }
  }

  private static Result run(Channel ch, String expect, long warmup, long seconds, int parallel)
      throws InterruptedException {
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
    long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
    AtomicLong[] histogram = new AtomicLong[100_001];
    Arrays.setAll(histogram, i -> new AtomicLong());
    AtomicLong calls = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    byte[] request = "bench".getBytes(StandardCharsets.UTF_8);
    Thread[] threads = new Thread[parallel];
    for (int t = 0; t < parallel; t++) {
      threads[t] = new Thread(() -> {
        long now;
        while ((now = System.nanoTime()) < end) {
          boolean ok;
          try {
            byte[] answer = ClientCalls.blockingUnaryCall(ch, GrpcEchoApp.UNARY,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
            ok = new String(answer, StandardCharsets.UTF_8).startsWith(expect);
          } catch (RuntimeException e) {
            ok = false;
          }
          long done = System.nanoTime();
          if (now >= measureFrom && done <= end) {
            calls.incrementAndGet();
            if (!ok) {
              errors.incrementAndGet();
            }
            histogram[(int) Math.min(100_000, (done - now) / 10_000)].incrementAndGet();
          }
        }
      }, "grpc-bench-" + t);
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    return new Result(calls.get(), errors.get(), seconds, histogram);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static long percentile(AtomicLong[] histogram, long n, double q) {
    long rank = (long) Math.ceil(q * n);
    long seen = 0;
    for (int i = 0; i < histogram.length; i++) {
      seen += histogram[i].get();
      if (seen >= rank && rank > 0) {
        return i * 10L + 5;
      }
    }
    return 0;
  }
}
