package dev.mirrord.jvm.podagent.session;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Tcp;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's incoming-TCP family (mirror and steal). Not implemented yet: {@code PortSubscribe}
 * is answered with {@code NotImplemented}; other Tcp messages are logged and ignored, and the
 * client gets one {@code AgentLog} warning about it.
 */
final class IncomingApi {
  private static final Logger logger = LoggerFactory.getLogger(IncomingApi.class);

  /** The feature name in {@link ResponseError.NotImplemented}. */
  static final String FEATURE = "incoming traffic (mirror/steal)";

  private final String peer;
  private final Consumer<AgentMessage> replies;
  private boolean warned;

  IncomingApi(String peer, Consumer<AgentMessage> replies) {
    this.peer = peer;
    this.replies = replies;
  }

  void handle(ClientMessage message) {
    if (message instanceof Tcp.PortSubscribe subscribe) {
      logger.info(
          "{} asked for {} on port {}: not implemented yet",
          peer,
          subscribe.mode().name().toLowerCase(java.util.Locale.ROOT),
          subscribe.port());
      replies.accept(
          new Tcp.PortSubscribeResult(
              subscribe.port(), RemoteResult.err(new ResponseError.NotImplemented(FEATURE))));
      return;
    }
    logger.debug("{} sent {}; ignored ({} not implemented)", peer, message, FEATURE);
    if (!warned) {
      warned = true;
      replies.accept(
          new Session.AgentLog(
              Session.AgentLog.Level.WARN,
              "this mirrord agent does not implement "
                  + FEATURE
                  + "; ignoring "
                  + message.getClass().getSimpleName()
                  + " and similar messages"));
    }
  }
}
