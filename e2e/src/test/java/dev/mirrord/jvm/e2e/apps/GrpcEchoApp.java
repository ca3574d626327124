package dev.mirrord.jvm.e2e.apps;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * {@code GrpcEchoApp PORT NAME [MAX_SECONDS [quiet] [idleMs=N]]}: a gRPC-java server (h2c, plain text) of a
 * hand-made service {@code mirrord.Echo} with {@code byte[]} messages (no protoc). Every answer names NAME, so a
 * client can tell who served it:
 *
 * <ul>
 *   <li>{@code Unary(text)} → {@code NAME: text}; a text starting {@code fail:} gets status FAILED_PRECONDITION
 *       with the description {@code NAME refuses text} (a non-OK status with trailers only).
 *   <li>{@code ServerStream("COUNT:SIZE:TAG")} → COUNT messages of SIZE bytes, {@link #payload}, sent as the client's
 *       flow control allows (onReady).
 *   <li>{@code Upload(chunks…)} (client streaming) → {@code NAME: LENGTH SHA256HEX} of the bytes received.
 * </ul>
 *
 * Prints {@link #READY_PREFIX}{@code PORT} once it listens and one line per call: {@code grpc.call METHOD
 * x-dev=VALUE peer=ADDRESS DETAIL} (none with {@code quiet}: benchmarks). Exits after MAX_SECONDS (default 600).
 * With {@code idleMs=N} it closes a connection idle for N ms (GOAWAY), as a server with {@code maxConnectionIdle}
 * does.
 */
public final class GrpcEchoApp {
  public static final String READY_PREFIX = "grpc.listening ";
  public static final String CALL_PREFIX = "grpc.call ";
  public static final int MAX_MESSAGE = 16 * 1024 * 1024;

  /** The bytes as they are. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw Status.INTERNAL.withCause(e).asRuntimeException();
      }
    }
  };

  public static final MethodDescriptor<byte[], byte[]> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
  public static final MethodDescriptor<byte[], byte[]> SERVER_STREAM =
      method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
  public static final MethodDescriptor<byte[], byte[]> UPLOAD =
      method("Upload", MethodDescriptor.MethodType.CLIENT_STREAMING);
  public static final Metadata.Key<String> X_DEV = Metadata.Key.of("x-dev", Metadata.ASCII_STRING_MARSHALLER);

  private static final Context.Key<String> DEV = Context.key("x-dev");
  private static final Context.Key<String> PEER = Context.key("peer");

  private GrpcEchoApp() {}

  private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("mirrord.Echo", name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }


  /** Message {@code index} of a server stream: {@code NAME:TAG:index:} then a pattern, {@code size} bytes in all. */
  public static byte[] payload(String name, String tag, int index, int size) {
    byte[] head = (name + ":" + tag + ":" + index + ":").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[Math.max(size, head.length)];
    System.arraycopy(head, 0, out, 0, head.length);
    for (int i = head.length; i < out.length; i++) {
      out[i] = (byte) (i * 31 + index);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: GrpcEchoApp PORT NAME [MAX_SECONDS]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    String name = args[1];
    long maxSeconds = args.length > 2 ? Long.parseLong(args[2]) : 600;
    PrintStream ready = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    java.util.List<String> options = java.util.Arrays.asList(args).subList(Math.min(3, args.length), args.length);
    PrintStream out = options.contains("quiet")
        ? new PrintStream(java.io.OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8) : ready;
    long idleMs = options.stream().filter(o -> o.startsWith("idleMs=")).mapToLong(o -> Long.parseLong(o.substring(7)))
        .findFirst().orElse(0);
    ServerInterceptor metadata = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        Context ctx = Context.current().withValue(DEV, String.valueOf(headers.get(X_DEV)))
            .withValue(PEER, String.valueOf(peer));
        return Contexts.interceptCall(ctx, call, headers, next);
      }
    };
    ServerServiceDefinition service = ServerServiceDefinition.builder("mirrord.Echo")
        .addMethod(UNARY, ServerCalls.asyncUnaryCall((req, obs) -> unary(name, out, req, obs)))
        .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((req, obs) -> serverStream(name, out, req, obs)))
        .addMethod(UPLOAD, ServerCalls.asyncClientStreamingCall(obs -> upload(name, out, obs)))
        .build();
    io.grpc.ServerBuilder<?> builder = idleMs > 0
        ? io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forPort(port)
            .maxConnectionIdle(idleMs, java.util.concurrent.TimeUnit.MILLISECONDS)
        : Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create());
    Server server = builder
        .maxInboundMessageSize(MAX_MESSAGE)
        .addService(ServerInterceptors.intercept(service, metadata))
        .build()
        .start();
    ready.println(READY_PREFIX + port);
    Thread stopper = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      ready.println("grpc.timeout");
      System.exit(1);
    }, "grpc-max-lifetime");
    stopper.setDaemon(true);
    stopper.start();
    server.awaitTermination();
  }

  private static void log(PrintStream out, String method, String detail) {
    out.println(CALL_PREFIX + method + " x-dev=" + DEV.get() + " peer=" + PEER.get() + " " + detail);
  }

  private static void unary(String name, PrintStream out, byte[] req, StreamObserver<byte[]> obs) {
    String text = new String(req, StandardCharsets.UTF_8);
    log(out, "Unary", text);
    if (text.startsWith("fail:")) {
      obs.onError(Status.FAILED_PRECONDITION.withDescription(name + " refuses " + text).asRuntimeException());
      return;
    }
    obs.onNext((name + ": " + text).getBytes(StandardCharsets.UTF_8));
    obs.onCompleted();
  }

  private static void serverStream(String name, PrintStream out, byte[] req, StreamObserver<byte[]> obs) {
    String[] spec = new String(req, StandardCharsets.UTF_8).split(":", 3);
    int count = Integer.parseInt(spec[0]);
    int size = Integer.parseInt(spec[1]);
    String tag = spec[2];
    log(out, "ServerStream", count + "x" + size + " " + tag);
    ServerCallStreamObserver<byte[]> call = (ServerCallStreamObserver<byte[]>) obs;
    int[] next = {0};
    boolean[] done = {false};
    Runnable pump = () -> {
      while (!done[0] && call.isReady() && next[0] < count) {
        call.onNext(payload(name, tag, next[0], size));
        next[0]++;
      }
      if (!done[0] && next[0] == count) {
        done[0] = true;
        call.onCompleted();
      }
    };
    call.setOnReadyHandler(pump);
    call.setOnCancelHandler(() -> done[0] = true);
    pump.run();
  }

  private static StreamObserver<byte[]> upload(String name, PrintStream out, StreamObserver<byte[]> obs) {
    MessageDigest sha = sha256();
    long[] length = {0};
    return new StreamObserver<>() {
      @Override
      public void onNext(byte[] chunk) {
        sha.update(chunk);
        length[0] += chunk.length;
      }

      @Override
      public void onError(Throwable t) {
        out.println("grpc.upload-error " + t);
      }

      @Override
      public void onCompleted() {
        String hex = HexFormat.of().formatHex(sha.digest());
        log(out, "Upload", length[0] + " " + hex);
        obs.onNext((name + ": " + length[0] + " " + hex).getBytes(StandardCharsets.UTF_8));
        obs.onCompleted();
      }
    };
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
