package dev.mirrord.jvm.podagent.dns;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import io.netty.channel.EventLoop;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's DNS family: hands each {@code LookupRequest} to the shared {@link DnsWorker}, which
 * sends the queries from this client's event loop, and writes the {@code LookupResponse} back when
 * it completes — on that same loop, so the reply is written without a hand-off to another thread.
 * Called on the event loop: never blocks.
 */
public final class DnsApi {
  private static final Logger logger = LoggerFactory.getLogger(DnsApi.class);

  private final DnsWorker worker;
  private final Consumer<AgentMessage> replies;
  private final EventLoop loop;

  /**
   * @param worker the agent's resolver, or {@code null} if this agent offers none (every lookup is
   *     then answered {@code NotImplemented})
   * @param loop the client connection's event loop, which sends the queries and gets the answers
   */
  public DnsApi(DnsWorker worker, Consumer<AgentMessage> replies, EventLoop loop) {
    this.worker = worker;
    this.replies = replies;
    this.loop = loop;
  }

  public void handle(Dns.LookupRequest request) {
    if (worker == null) {
      replies.accept(
          new Dns.LookupResponse(
              request.requestId(), RemoteResult.err(new ResponseError.NotImplemented("remote DNS"))));
      return;
    }
    long start = System.nanoTime();
    worker
        .lookup(request.host(), request.family(), loop)
        .thenAccept(
            result -> {
              logger.debug(
                  "lookup {} (family {}) → {} in {} ms",
                  request.host(),
                  request.family(),
                  result,
                  (System.nanoTime() - start) / 1_000_000);
              replies.accept(new Dns.LookupResponse(request.requestId(), result));
            });
  }
}
