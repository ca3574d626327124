package dev.mirrord.jvm.e2e.apps;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * {@code GrpcPausingClient HOST PORT DEV CALLS PAUSE_MS}: CALLS unary calls to {@link GrpcEchoApp} on ONE channel
 * (one HTTP/2 connection), each with the metadata {@code x-dev: DEV}, PAUSE_MS apart (longer than a server's idle
 * timeout: the calls cross its GOAWAYs). Prints {@code call N OK ANSWER} or {@code call N FAILED STATUS} per call and
 * exits 0 only if every answer is {@code DEV: call-N}.
 */
public final class GrpcPausingClient {
  private GrpcPausingClient() {}

  public static void main(String[] args) throws Exception {
    String dev = args[2];
    int calls = Integer.parseInt(args[3]);
    long pauseMs = Long.parseLong(args[4]);
    ManagedChannel managed = ManagedChannelBuilder.forAddress(args[0], Integer.parseInt(args[1])).usePlaintext().build();
    Metadata md = new Metadata();
    md.put(GrpcEchoApp.X_DEV, dev);
    Channel ch = ClientInterceptors.intercept(managed, MetadataUtils.newAttachHeadersInterceptor(md));
    int ok = 0;
    for (int i = 0; i < calls; i++) {
      if (i > 0) {
        Thread.sleep(pauseMs);
      }
      String text = "call-" + i;
      try {
        byte[] answer = ClientCalls.blockingUnaryCall(ch, GrpcEchoApp.UNARY,
            CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), text.getBytes(StandardCharsets.UTF_8));
        String a = new String(answer, StandardCharsets.UTF_8);
        boolean right = a.equals(dev + ": " + text);
        ok += right ? 1 : 0;
        System.out.println("call " + i + (right ? " OK " : " WRONG ") + a);
      } catch (RuntimeException e) {
        System.out.println("call " + i + " FAILED " + e.getMessage().lines().findFirst().orElse(""));
      }
    }
    managed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    System.exit(ok == calls ? 0 : 1);
  }
}
