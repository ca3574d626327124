package dev.mirrord.jvm.e2e.apps;

import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;

/**
 * {@code VertxPeerApp PORT ADDRESS NAME}: a Vert.x 5 HTTP server (Quarkus' and Vert.x apps' own, on Netty), answering
 * as {@link TomcatPeerApp} does from {@code request.remoteAddress()}. Runs until killed.
 */
public final class VertxPeerApp {
  private VertxPeerApp() {}

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    String name = args[2];
    Vertx vertx = Vertx.vertx();
    vertx.createHttpServer()
        .requestHandler(req -> {
          SocketAddress peer = req.remoteAddress();
          req.response().putHeader("Content-Type", "text/plain")
              .end(StackApps.answer(name, peer.hostAddress(), peer.port(), req.uri()));
        })
        .listen(port, args[1])
        .await();
    System.out.println(StackApps.READY_PREFIX + "vertx " + port);
  }
}
