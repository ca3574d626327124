package dev.mirrord.jvm.e2e.apps;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GrpcMixClient host=H port=P calls=N seed=S devs=alice,bob big=alice,pod parallel=8 [answeredBy=pod]}: gRPC calls to {@link
 * GrpcEchoApp} on ONE {@code ManagedChannel} (gRPC-java: one HTTP/2 connection), {@code parallel} at a time so that
 * their streams interleave on it. Each call carries the metadata {@code x-dev: DEV} for a random DEV of {@code devs},
 * or none (then the pod must answer); every answer is checked by content against who should have served it:
 * unary calls, server-streaming calls (3 messages), failing calls (FAILED_PRECONDITION with the server's description).
 * Then for each of {@code big} (a dev, or {@code pod} for no header): a server stream of 4 × 2 MiB and an upload of
 * 6 MiB in 64 KiB messages, both checksummed. Prints one line
 *
 * <pre>
 *   grpc-summary calls=N ok=K bad=B alice=A bob=B pod=P
 * </pre>
 *
 * (the counts are the calls sent with each {@code x-dev}, {@code pod} for none, big ones included: in steal mode
 * the calls each server should have served), the first problems on stderr, and exits 0 only if every call was right.
 * With {@code answeredBy=NAME} every answer must come from NAME whatever the header (mirror mode: the pod answers).
 */
public final class GrpcMixClient {
  public static final String SUMMARY_PREFIX = "grpc-summary ";

  private GrpcMixClient() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (String s : argv) {
      int eq = s.indexOf('=');
      a.put(s.substring(0, eq), s.substring(eq + 1));
    }
    String host = a.get("host");
    int port = Integer.parseInt(a.get("port"));
    int calls = Integer.parseInt(a.getOrDefault("calls", "100"));
    long seed = Long.parseLong(a.getOrDefault("seed", "1"));
    List<String> devs = a.getOrDefault("devs", "").isEmpty() ? List.of() : Arrays.asList(a.get("devs").split(","));
    List<String> big = a.getOrDefault("big", "").isEmpty() ? List.of() : Arrays.asList(a.get("big").split(","));
    int parallel = Integer.parseInt(a.getOrDefault("parallel", "8"));
    String answeredBy = a.get("answeredBy");

    ManagedChannel channel = Grpc.newChannelBuilderForAddress(host, port, InsecureChannelCredentials.create())
        .maxInboundMessageSize(GrpcEchoApp.MAX_MESSAGE)
        .build();
    Map<String, AtomicInteger> served = new LinkedHashMap<>();
    for (String d : devs) {
      served.put(d, new AtomicInteger());
    }
    served.put("pod", new AtomicInteger());
    AtomicInteger ok = new AtomicInteger();
    List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    Random random = new Random(seed);
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      int pick = random.nextInt(devs.size() + 1);
      String dev = pick < devs.size() ? devs.get(pick) : null;
      String key = dev == null ? "pod" : dev;
      String who = answeredBy != null ? answeredBy : key;
      int n = i;
      futures.add(CompletableFuture.runAsync(() -> {
        String problem = call(channel, dev, who, n);
        served.get(key).incrementAndGet();
        if (problem == null) {
          ok.incrementAndGet();
        } else {
          problems.add(problem);
        }
      }, pool));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    int total = calls;
    for (String who : big) {
      String dev = who.equals("pod") ? null : who;
      for (String problem : new String[] {bigStream(channel, dev, who), bigUpload(channel, dev, who)}) {
        total++;
        served.get(who).incrementAndGet();
        if (problem == null) {
          ok.incrementAndGet();
        } else {
          problems.add(problem);
        }
      }
    }
    pool.shutdown();
    channel.shutdown().awaitTermination(10, TimeUnit.SECONDS);
    StringBuilder summary = new StringBuilder(SUMMARY_PREFIX + "calls=" + total + " ok=" + ok.get() + " bad="
        + (total - ok.get()));
    served.forEach((k, v) -> summary.append(' ').append(k).append('=').append(v.get()));
    System.out.println(summary);
    problems.stream().limit(10).forEach(System.err::println);
    System.exit(ok.get() == total ? 0 : 1);
  }

  /** {@code channel} whose calls carry {@code x-dev: dev} (none if {@code dev} is null); also GrpcBenchClient's. */
  static Channel with(ManagedChannel channel, String dev) {
    if (dev == null) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(GrpcEchoApp.X_DEV, dev);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** One call of a kind chosen by {@code n}; null if the answer was right, else what was wrong. */
  private static String call(ManagedChannel channel, String dev, String who, int n) {
    Channel ch = with(channel, dev);
    CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
    String text = "call-" + n;
    try {
      if (n % 10 == 9) {
        try {
          ClientCalls.blockingUnaryCall(ch, GrpcEchoApp.UNARY, opts, ("fail:" + text).getBytes(StandardCharsets.UTF_8));
          return "call " + n + " (" + who + "): a failing call succeeded";
        } catch (StatusRuntimeException e) {
          Status s = e.getStatus();
          String want = who + " refuses fail:" + text;
          return s.getCode() == Status.Code.FAILED_PRECONDITION && want.equals(s.getDescription()) ? null
              : "call " + n + " (" + who + "): status " + s;
        }
      }
      if (n % 5 == 4) {
        Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(ch, GrpcEchoApp.SERVER_STREAM, opts,
            ("3:100:" + text).getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 3; i++) {
          if (!it.hasNext() || !Arrays.equals(it.next(), GrpcEchoApp.payload(who, text, i, 100))) {
            return "call " + n + " (" + who + "): stream message " + i + " wrong or missing";
          }
        }
        return it.hasNext() ? "call " + n + " (" + who + "): more than 3 messages" : null;
      }
      byte[] answer = ClientCalls.blockingUnaryCall(ch, GrpcEchoApp.UNARY, opts, text.getBytes(StandardCharsets.UTF_8));
      String got = new String(answer, StandardCharsets.UTF_8);
      return got.equals(who + ": " + text) ? null : "call " + n + " (" + who + "): got '" + got + "'";
    } catch (RuntimeException e) {
      return "call " + n + " (" + who + "): " + e;
    }
  }

  /** 4 messages of 2 MiB from the server, each checked. */
  private static String bigStream(ManagedChannel channel, String dev, String who) {
    int size = 2 * 1024 * 1024;
    try {
      Iterator<byte[]> it = ClientCalls.blockingServerStreamingCall(with(channel, dev), GrpcEchoApp.SERVER_STREAM,
          CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
          ("4:" + size + ":big").getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < 4; i++) {
        if (!it.hasNext() || !Arrays.equals(it.next(), GrpcEchoApp.payload(who, "big", i, size))) {
          return "big stream (" + who + "): message " + i + " wrong or missing";
        }
      }
      System.out.println("grpc-big-stream " + who + " 4x" + size + " ok");
      return it.hasNext() ? "big stream (" + who + "): more than 4 messages" : null;
    } catch (RuntimeException e) {
      return "big stream (" + who + "): " + e;
    }
  }

  /** 6 MiB to the server in 64 KiB messages; its length and SHA-256 come back. */
  private static String bigUpload(ManagedChannel channel, String dev, String who) {
    int chunk = 64 * 1024;
    int chunks = 96;
    MessageDigest sha = GrpcEchoApp.sha256();
    CompletableFuture<String> answer = new CompletableFuture<>();
    StreamObserver<byte[]> up = ClientCalls.asyncClientStreamingCall(
        with(channel, dev).newCall(GrpcEchoApp.UPLOAD, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)),
        new StreamObserver<>() {
          @Override
          public void onNext(byte[] value) {
            answer.complete(new String(value, StandardCharsets.UTF_8));
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    Random r = new Random(42);
    for (int i = 0; i < chunks; i++) {
      byte[] b = new byte[chunk];
      r.nextBytes(b);
      sha.update(b);
      up.onNext(b);
    }
    up.onCompleted();
    String want = who + ": " + ((long) chunk * chunks) + " " + HexFormat.of().formatHex(sha.digest());
    try {
      String got = answer.get(60, TimeUnit.SECONDS);
      System.out.println("grpc-big-upload " + who + " " + ((long) chunk * chunks) + " " + (got.equals(want) ? "ok"
          : "mismatch"));
      return got.equals(want) ? null : "big upload (" + who + "): got '" + got + "', want '" + want + "'";
    } catch (Exception e) {
      return "big upload (" + who + "): " + e;
    }
  }
}
