package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Target;
import io.netty.channel.Channel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multiplexes every layer's requests (and the CLI's own) over the one agent connection. Each
 * request gets a fresh agent-side id; the answer is routed back to whoever asked, with the id they
 * used. Layers may reuse ids freely (every layer starts at 1). Thread-safe.
 */
final class RequestRouter {
  private static final Logger logger = LoggerFactory.getLogger(RequestRouter.class);

  /** What an agent-side id stands for. */
  private record Pending(ReplyTarget target, long originalId, RequestFamily<?, ?> family) {}

  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextAgentId = new AtomicLong(1);
  private volatile Channel agent;
  /** The agent's first {@code TargetInfo} (the CLI asks before any layer starts); later requests get it at once. */
  private volatile Target.TargetInfo targetInfo;

  /** Requests from now on go to {@code channel}. */
  void agentConnected(Channel channel) {
    this.agent = channel;
  }

  boolean agentAvailable() {
    Channel ch = agent;
    return ch != null && ch.isActive();
  }

  /**
   * Forwards {@code msg} if it is a correlated request.
   *
   * @return false if {@code msg} belongs to no {@link RequestFamily} (the caller handles it)
   */
  boolean fromClient(ReplyTarget from, ClientMessage msg) {
    RequestFamily<?, ?> family = RequestFamily.forRequest(msg);
    if (family == null) {
      return false;
    }
    long originalId = family.idOfRequest(msg);
    Target.TargetInfo known = targetInfo;
    if (family == RequestFamily.TARGET_INFO && known != null) {
      // The target does not change during a session: every layer's start-up asks, the first answer serves all.
      from.deliver(family.responseWithId(known, originalId));
      return true;
    }
    Channel ch = agent;
    if (ch == null || !ch.isActive()) {
      fail(from, originalId, family, "no connection to the mirrord agent");
      return true;
    }
    long agentId = nextAgentId.getAndIncrement();
    pending.put(agentId, new Pending(from, originalId, family));
    logger.debug("{} request {} from {} → agent id {}", family.name(), originalId, from.describe(), agentId);
    ch.writeAndFlush(family.requestWithId(msg, agentId))
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                Pending p = pending.remove(agentId);
                if (p != null) {
                  fail(p.target, p.originalId, p.family, "cannot reach the mirrord agent");
                }
              }
            });
    return true;
  }

  /**
   * Routes an agent answer back.
   *
   * @return false if {@code msg} is not a correlated answer
   */
  boolean fromAgent(AgentMessage msg) {
    RequestFamily<?, ?> family = RequestFamily.forResponse(msg);
    if (family == null) {
      return false;
    }
    long agentId = family.idOfResponse(msg);
    Pending p = pending.remove(agentId);
    if (p == null) {
      logger.debug("dropping {} answer for unknown agent id {}", family.name(), agentId);
      return true;
    }
    if (p.family != family) {
      logger.warn("agent answered id {} with {} but {} was asked; dropped", agentId, family.name(), p.family.name());
      return true;
    }
    if (msg instanceof Target.TargetInfo info) {
      targetInfo = info;
    }
    p.target.deliver(family.responseWithId(msg, p.originalId));
    return true;
  }

  /** Forgets the requests of a layer that went away. */
  void targetClosed(ReplyTarget target) {
    pending.values().removeIf(p -> p.target == target);
  }

  /** The agent connection is gone: answers every pending request with an error where possible. */
  void agentLost() {
    agent = null;
    for (Long id : pending.keySet()) {
      Pending p = pending.remove(id);
      if (p != null) {
        fail(p.target, p.originalId, p.family, "lost the connection to the mirrord agent");
      }
    }
  }

  int pendingCount() {
    return pending.size();
  }

  private static void fail(ReplyTarget to, long originalId, RequestFamily<?, ?> family, String why) {
    AgentMessage answer = family.failureFor(originalId, new ResponseError.RemoteIo(0, why));
    if (answer != null) {
      to.deliver(answer);
    } else {
      logger.info("{} request {} from {} not answered: {}", family.name(), originalId, to.describe(), why);
    }
  }
}
