package dev.mirrord.jvm.podagent.session;

import dev.mirrord.jvm.podagent.dns.ResolverFilesReader;
import dev.mirrord.jvm.podagent.env.TargetEnv;
import dev.mirrord.jvm.podagent.target.AgentNetns;
import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's Target family: {@code TargetInfoRequest}, {@code EnvRequest} and {@code
 * ResolverFilesRequest}. The answers read
 * {@code /proc}, so they are computed on the blocking executor and written back from there.
 */
final class TargetApi {
  private static final Logger logger = LoggerFactory.getLogger(TargetApi.class);

  private final TargetProcess target;
  private final Executor blockingWork;
  private final Consumer<AgentMessage> replies;

  TargetApi(TargetProcess target, Executor blockingWork, Consumer<AgentMessage> replies) {
    this.target = target;
    this.blockingWork = blockingWork;
    this.replies = replies;
  }

  void handle(Target.TargetInfoRequest request) {
    blockingWork.execute(() -> replies.accept(targetInfo(request.requestId())));
  }

  void handle(Target.EnvRequest request) {
    blockingWork.execute(
        () -> replies.accept(new Target.EnvResponse(request.requestId(), TargetEnv.read(target))));
  }

  void handle(Target.ResolverFilesRequest request) {
    blockingWork.execute(
        () -> replies.accept(ResolverFilesReader.read(request.requestId(), target)));
  }

  private Target.TargetInfo targetInfo(long requestId) {
    long inode = 0;
    try {
      inode = AgentNetns.inode();
    } catch (IOException | RuntimeException e) {
      logger.warn("cannot stat /proc/self/ns/net: {}", e.toString());
    }
    List<String> addresses = List.of();
    try {
      addresses = AgentNetns.addresses();
    } catch (IOException | RuntimeException e) {
      logger.warn("cannot list network interfaces: {}", e.toString());
    }
    return new Target.TargetInfo(requestId, target.pid(), inode, target.hostname(), addresses);
  }
}
