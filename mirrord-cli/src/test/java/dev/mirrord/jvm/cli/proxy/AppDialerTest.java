package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AppDialer} with real sockets against an app on {@code ::1} only: the fallback from
 * 127.0.0.1 to {@code [::1]} when dials overlap.
 */
class AppDialerTest {
  private EventLoopGroup loops;
  private ServerSocket app;

  private record Dialed(Channel ch, int cliPort, Throwable failure) {}

  @BeforeEach
  void start() throws Exception {
    loops = Transport.NIO.newGroup(2, new DefaultThreadFactory("test-dialer", true));
    app = new ServerSocket();
    app.bind(new InetSocketAddress("::1", 0));
    app.setSoTimeout(10_000);
  }

  @AfterEach
  void stop() throws Exception {
    app.close();
    loops.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS).await(5, TimeUnit.SECONDS);
  }

  /** A socket bound to {@code source} once {@code gate} completes. */
  private AppDialer.Binder binder(CompletableFuture<Void> gate) {
    Bootstrap b = new Bootstrap().group(loops).channel(Transport.NIO.socketChannel())
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {}
        });
    return source -> {
      ChannelFuture registered = b.register(); // called on an event loop too (the retries): no waiting here
      Channel ch = registered.channel();
      ChannelPromise bound = ch.newPromise();
      registered.addListener(r -> gate.thenRun(() -> ch.bind(source).addListener(f -> {
        if (f.isSuccess()) {
          bound.setSuccess();
        } else {
          bound.setFailure(f.cause());
        }
      })));
      return bound;
    };
  }

  private static CompletableFuture<Dialed> dial(AppDialer dialer, int port, int clientPort, AppDialer.Binder binder) {
    CompletableFuture<Dialed> result = new CompletableFuture<>();
    dialer.dial(port, null, "198.18.0.100", clientPort, binder, (ch, cliPort, failure) ->
        result.complete(new Dialed(ch, cliPort, failure)));
    return result;
  }

  @Test
  void aDialThatStartedBeforeAnotherFoundTheAppOnIpv6LoopbackStillGetsThere() throws Exception {
    AppDialer dialer = new AppDialer(new RelayAddresses(InetAddress.getByName("127.83.4.19"), 24200, 24215));
    int port = app.getLocalPort();
    // A burst of connections when the session starts: the second dial begins (to 127.0.0.1, nothing is known
    // yet), and the first one finds the app on [::1] before the second's connect is refused.
    CompletableFuture<Void> gate = new CompletableFuture<>();
    CompletableFuture<Dialed> second = dial(dialer, port, 50002, binder(gate));
    Dialed first = dial(dialer, port, 50001, binder(CompletableFuture.completedFuture(null))).get(10, TimeUnit.SECONDS);
    assertThat(first.failure()).isNull();
    try (Socket a = app.accept()) {
      assertThat(a.getPort()).isEqualTo(first.cliPort()).isBetween(24200, 24215);
      gate.complete(null);
      Dialed late = second.get(10, TimeUnit.SECONDS);
      assertThat(late.failure()).as("the second dial, refused on 127.0.0.1").isNull();
      try (Socket b = app.accept()) {
        assertThat(b.getInetAddress()).isEqualTo(InetAddress.getByName("::1"));
        assertThat(b.getPort()).isEqualTo(late.cliPort()).isBetween(24200, 24215);
      }
      late.ch().close();
    } finally {
      first.ch().close();
    }
  }

  @Test
  void anAppOnNeitherLoopbackFailsTheDialAfterOneTryOfEach() throws Exception {
    AppDialer dialer = new AppDialer(new RelayAddresses(InetAddress.getByName("127.83.4.19"), 24200, 24215));
    int port = app.getLocalPort();
    app.close();
    int[] tries = new int[1];
    AppDialer.Binder counting = source -> {
      tries[0]++;
      return binder(CompletableFuture.completedFuture(null)).bind(source);
    };
    Dialed d = dial(dialer, port, 50001, counting).get(10, TimeUnit.SECONDS);
    assertThat(d.failure()).isInstanceOf(java.net.ConnectException.class);
    assertThat(tries[0]).as("127.0.0.1, then [::1]").isEqualTo(2);
  }
}
