package dev.mirrord.jvm.e2e.apps;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
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
 */
public final class GrpcBenchClient {
  private GrpcBenchClient() {}

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    long warmup = Long.parseLong(args[3]);
    int parallel = Integer.parseInt(args[4]);
    String expect = args[5] + ":";
    ManagedChannel managed = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create()).build();
    Channel channel = managed;
    if (args.length > 6) {
      Metadata headers = new Metadata();
      headers.put(GrpcEchoApp.X_DEV, args[6]);
      channel = ClientInterceptors.intercept(managed, MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
    long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
    AtomicLong[] histogram = new AtomicLong[100_001];
    Arrays.setAll(histogram, i -> new AtomicLong());
    AtomicLong calls = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    Channel ch = channel;
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
    managed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    long n = calls.get();
    System.out.printf("grpc-bench calls=%d rps=%.0f p50_us=%d p99_us=%d errors=%d%n", n, n / (double) seconds,
        percentile(histogram, n, 0.50), percentile(histogram, n, 0.99), errors.get());
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
