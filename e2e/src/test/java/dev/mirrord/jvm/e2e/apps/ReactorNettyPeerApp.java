package dev.mirrord.jvm.e2e.apps;

import java.net.InetSocketAddress;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * {@code ReactorNettyPeerApp PORT ADDRESS NAME}: a Reactor Netty HTTP server (what Spring WebFlux runs on; its native
 * epoll transport where it loads, as in production), answering as {@link TomcatPeerApp} does from {@code
 * request.remoteAddress()}. Runs until killed.
 */
public final class ReactorNettyPeerApp {
  private ReactorNettyPeerApp() {}

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    String name = args[2];
    DisposableServer server =
        HttpServer.create()
            .host(args[1])
            .port(port)
            .handle((req, res) -> {
              InetSocketAddress peer = (InetSocketAddress) req.remoteAddress();
              String line = StackApps.answer(name, peer.getAddress().getHostAddress(), peer.getPort(), req.uri());
              return res.header("Content-Type", "text/plain").sendString(reactor.core.publisher.Mono.just(line));
            })
            .bindNow();
    System.out.println(StackApps.READY_PREFIX + "reactor-netty " + port + " epoll="
        + io.netty.channel.epoll.Epoll.isAvailable());
    server.onDispose().block();
  }
}
