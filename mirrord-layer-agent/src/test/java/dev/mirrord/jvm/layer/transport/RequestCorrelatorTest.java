package dev.mirrord.jvm.layer.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestCorrelatorTest {
  private final RequestCorrelator correlator = new RequestCorrelator();

  /** What {@code f} failed with (it must be done). */
  private static Throwable failure(CompletableFuture<?> f) {
    assertThat(f).isDone();
    return f.handle((r, e) -> e).join();
  }

  private static Target.TargetInfo info(long id) {
    return new Target.TargetInfo(id, 1, 2, "h", List.of());
  }

  @Test
  void requestsAndAnswersShareTheirKey() {
    assertThat(RequestCorrelator.keyOf(new Target.TargetInfoRequest(7)))
        .isEqualTo(RequestCorrelator.keyOf(info(7)));
    assertThat(RequestCorrelator.keyOf(new Target.EnvRequest(8)))
        .isEqualTo(
            RequestCorrelator.keyOf(new Target.EnvResponse(8, RemoteResult.ok(Map.of()))));
    assertThat(RequestCorrelator.keyOf(new Session.Ping(3)))
        .isEqualTo(RequestCorrelator.keyOf(new Session.Pong(3)));
    assertThat(RequestCorrelator.keyOf(new Tcp.PortSubscribe(80, IncomingMode.STEAL)))
        .isEqualTo(RequestCorrelator.keyOf(new Tcp.PortSubscribeResult(80, RemoteResult.ok(80))));
    assertThat(RequestCorrelator.keyOf(new Session.Hello(ProtocolVersion.CURRENT, "t", "p")))
        .isEqualTo(RequestCorrelator.keyOf(new Session.HelloRejected(ProtocolVersion.CURRENT, "x")))
        .isEqualTo(RequestCorrelator.keyOf(new Session.HelloOk(ProtocolVersion.CURRENT, "v")));
  }

  @Test
  void unsolicitedMessagesHaveNoKey() {
    assertThat(RequestCorrelator.keyOf((AgentMessage) new Tcp.Close(1, false))).isNull();
    assertThat(RequestCorrelator.keyOf(new Session.AgentLog(Session.AgentLog.Level.WARN, "w")))
        .isNull();
    assertThat(RequestCorrelator.keyOf(new Tcp.PortUnsubscribe(80))).isNull();
  }

  @Test
  void anAnswerCompletesItsOwnRequestOnly() throws Exception {
    CompletableFuture<AgentMessage> one = correlator.register(new Target.TargetInfoRequest(1));
    CompletableFuture<AgentMessage> two = correlator.register(new Target.TargetInfoRequest(2));

    assertThat(correlator.complete(info(2))).isTrue();

    assertThat(two.get(1, TimeUnit.SECONDS)).isEqualTo(info(2));
    assertThat(one).isNotDone();
    assertThat(correlator.pendingCount()).isEqualTo(1);
  }

  @Test
  void anAnswerNobodyAskedForIsNotConsumed() {
    assertThat(correlator.complete(info(99))).isFalse();
    assertThat(correlator.complete(new Tcp.Close(1, true))).isFalse();
  }

  @Test
  void aSecondRequestWithTheSameKeyFailsAtOnce() {
    correlator.register(new Target.TargetInfoRequest(1));

    CompletableFuture<AgentMessage> dup = correlator.register(new Target.EnvRequest(1));

    assertThat(dup).isCompletedExceptionally();
    assertThat(failure(dup)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aMessageWithoutAnswerCannotBeARequest() {
    CompletableFuture<AgentMessage> f = correlator.register(new Tcp.PortUnsubscribe(80));
    assertThat(failure(f)).isInstanceOf(IllegalArgumentException.class);
    assertThat(correlator.pendingCount()).isZero();
  }

  @Test
  void aRequestTheCallerGaveUpOnLeavesTheTable() {
    CompletableFuture<AgentMessage> f = correlator.register(new Target.TargetInfoRequest(5));
    f.cancel(false);

    assertThat(correlator.pendingCount()).isZero();
    assertThat(correlator.complete(info(5))).isFalse();
  }

  @Test
  void failAllFailsEveryPendingRequest() {
    CompletableFuture<AgentMessage> a = correlator.register(new Target.TargetInfoRequest(1));
    CompletableFuture<AgentMessage> b = correlator.register(new Session.Ping(1));

    correlator.failAll(new IOException("gone"));

    assertThat(failure(a)).hasMessage("gone");
    assertThat(failure(b)).hasMessage("gone");
    assertThat(correlator.pendingCount()).isZero();
  }
}
