package dev.mirrord.jvm.layer.socket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.LayerConfig;
import dev.mirrord.jvm.layer.bootstrap.HookResult;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListenOpsTest {
  @TempDir Path dir;

  private ListenOps ops(LayerConfig.Incoming mode, Map<Integer, Integer> map, Set<Integer> ignore) {
    return new ListenOps(mode, map, ignore, LayerLog.discard());
  }

  @Test
  void aFixedPortIsHandledAndRecorded() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of());

    HookResult r = ops.onListen(new InetSocketAddress("0.0.0.0", 8080), 8080);

    assertThat(r).isSameAs(HookResult.HANDLED);
    assertThat(ops.listening())
        .containsExactly(
            Map.entry(
                8080, new ListenOps.Listening("0.0.0.0", 8080, false, 8080, HookResult.HANDLED)));
    assertThat(ops.listening().get(8080).subscribable()).isTrue();
  }

  @Test
  void portZeroIsRecordedAsEphemeralAndBypassed() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of());

    HookResult r = ops.onListen(new InetSocketAddress("127.0.0.1", 0), 43210);

    assertThat(r.reason()).isEqualTo(HookResult.Reason.EPHEMERAL_PORT);
    ListenOps.Listening l = ops.listening().get(43210);
    assertThat(l.ephemeral()).isTrue();
    assertThat(l.address()).isEqualTo("127.0.0.1");
    assertThat(l.subscribable()).isFalse();
  }

  @Test
  void aNullAddressMeansAnyAddressAnyPort() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of());

    HookResult r = ops.onListen(null, 40001);

    assertThat(r.reason()).isEqualTo(HookResult.Reason.EPHEMERAL_PORT);
    assertThat(ops.listening().get(40001).address()).isEqualTo("*");
  }

  @Test
  void portMapGivesTheRemotePort() {
    ListenOps ops = ops(LayerConfig.Incoming.STEAL, Map.of(8080, 80), Set.of());

    ops.onListen(new InetSocketAddress(8080), 8080);
    ops.onListen(new InetSocketAddress(9090), 9090);

    assertThat(ops.listening().get(8080).remotePort()).isEqualTo(80);
    assertThat(ops.listening().get(9090).remotePort()).isEqualTo(9090);
    assertThat(ops.listeningPorts()).containsExactly(8080, 9090);
  }

  @Test
  void ignoredPortsAreBypassed() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of(8081));

    assertThat(ops.onListen(new InetSocketAddress(8081), 8081).reason())
        .isEqualTo(HookResult.Reason.IGNORED_PORT);
    assertThat(ops.listening().get(8081).subscribable()).isFalse();
  }

  @Test
  void incomingOffBypassesEveryListen() {
    ListenOps ops = ops(LayerConfig.Incoming.OFF, Map.of(), Set.of());

    assertThat(ops.onListen(new InetSocketAddress(8080), 8080).reason())
        .isEqualTo(HookResult.Reason.DISABLED_BY_CONFIG);
  }

  @Test
  void unixDomainSocketsAreNotMirrordsBusiness() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of());

    HookResult r = ops.onListen(UnixDomainSocketAddress.of("/tmp/app.sock"), -1);

    assertThat(r.reason()).isEqualTo(HookResult.Reason.NOT_INET);
    assertThat(ops.listening()).isEmpty();
  }

  @Test
  void anUnknownBoundPortIsBypassed() {
    ListenOps ops = ops(LayerConfig.Incoming.MIRROR, Map.of(), Set.of());

    assertThat(ops.onListen(new InetSocketAddress(8080), -1).reason())
        .isEqualTo(HookResult.Reason.UNKNOWN_PORT);
    assertThat(ops.listening()).isEmpty();
  }

  @Test
  void eachDecisionIsOneLogLine() throws Exception {
    Path file = dir.resolve("layer.log");
    LayerLog log = LayerLog.open(file, LayerLog.Level.INFO);
    ListenOps ops = new ListenOps(LayerConfig.Incoming.MIRROR, Map.of(8080, 80), Set.of(), log);

    ops.onListen(new InetSocketAddress("0.0.0.0", 8080), 8080);
    ops.onListen(new InetSocketAddress("127.0.0.1", 0), 45000);

    assertThat(Files.readAllLines(file))
        .hasSize(2)
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "listen port=8080 requested=8080 address=0.0.0.0 ephemeral=false"
                            + " remotePort=80 mode=mirror decision=HANDLED"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .endsWith(
                        "listen port=45000 requested=0 address=127.0.0.1 ephemeral=true"
                            + " remotePort=45000 mode=mirror decision=bypass:EPHEMERAL_PORT"));
  }

  /** Records subscribe/unsubscribe calls; refuses the ports in {@code refuse}. */
  static final class RecordingPortSubscriber implements PortSubscriber {
    final java.util.List<String> calls = new java.util.ArrayList<>();
    final Set<Integer> refuse;

    RecordingPortSubscriber(Set<Integer> refuse) {
      this.refuse = refuse;
    }

    @Override
    public String subscribe(int remotePort, dev.mirrord.jvm.protocol.IncomingMode mode) {
      calls.add("subscribe " + remotePort + " " + mode);
      return refuse.contains(remotePort) ? "port " + remotePort + " is already stolen" : null;
    }

    @Override
    public void unsubscribe(int remotePort) {
      calls.add("unsubscribe " + remotePort);
    }
  }

  @Test
  void aHandledListenSubscribesTheMappedRemotePortInTheSessionMode() {
    RecordingPortSubscriber sub = new RecordingPortSubscriber(Set.of());
    ListenOps ops =
        new ListenOps(LayerConfig.Incoming.STEAL, Map.of(8080, 80), Set.of(), LayerLog.discard(), sub);

    ops.onListen(new InetSocketAddress(8080), 8080);
    ops.onListen(new InetSocketAddress(9090), 9090);
    ops.onListen(new InetSocketAddress(0), 41234);

    assertThat(sub.calls).containsExactly("subscribe 80 STEAL", "subscribe 9090 STEAL");
  }

  @Test
  void closingAListenerUnsubscribesOnceAndOnlyWhatWasSubscribed() {
    RecordingPortSubscriber sub = new RecordingPortSubscriber(Set.of());
    ListenOps ops =
        new ListenOps(LayerConfig.Incoming.MIRROR, Map.of(), Set.of(7000), LayerLog.discard(), sub);
    ops.onListen(new InetSocketAddress(8080), 8080);
    ops.onListen(new InetSocketAddress(7000), 7000);

    ops.onListenClosed(8080);
    ops.onListenClosed(8080);
    ops.onListenClosed(7000);
    ops.onListenClosed(1234);

    assertThat(sub.calls).containsExactly("subscribe 8080 MIRROR", "unsubscribe 8080");
    assertThat(ops.listening()).isEmpty();
  }

  @Test
  void aPortClosedAndBoundAgainIsUnsubscribedThenSubscribedAgain() {
    RecordingPortSubscriber sub = new RecordingPortSubscriber(Set.of());
    ListenOps ops =
        new ListenOps(LayerConfig.Incoming.STEAL, Map.of(), Set.of(), LayerLog.discard(), sub);

    for (int restart = 0; restart < 3; restart++) {
      ops.onListen(new InetSocketAddress(8080), 8080);
      assertThat(ops.isSubscribed(8080)).isTrue();
      ops.onListenClosed(8080);
      assertThat(ops.isSubscribed(8080)).isFalse();
    }

    assertThat(sub.calls)
        .containsExactly(
            "subscribe 8080 STEAL", "unsubscribe 8080",
            "subscribe 8080 STEAL", "unsubscribe 8080",
            "subscribe 8080 STEAL", "unsubscribe 8080");
  }

  @Test
  void aNewListenerSeenBeforeTheOldOnesCloseKeepsTheSubscriptionUntilTheLastCloses() {
    RecordingPortSubscriber sub = new RecordingPortSubscriber(Set.of());
    ListenOps ops =
        new ListenOps(LayerConfig.Incoming.STEAL, Map.of(), Set.of(), LayerLog.discard(), sub);

    HookResult first = ops.onListen(new InetSocketAddress(8080), 8080);
    HookResult second = ops.onListen(new InetSocketAddress(8080), 8080); // SO_REUSEPORT, or a racing restart
    ops.onListenClosed(8080); // the old listener's close, seen late

    assertThat(first).isEqualTo(HookResult.HANDLED);
    assertThat(second).isEqualTo(HookResult.HANDLED);
    assertThat(ops.isSubscribed(8080)).as("the new listener still gets the traffic").isTrue();
    assertThat(sub.calls).containsExactly("subscribe 8080 STEAL");

    ops.onListenClosed(8080);
    assertThat(ops.isSubscribed(8080)).isFalse();
    assertThat(sub.calls).containsExactly("subscribe 8080 STEAL", "unsubscribe 8080");
  }

  @Test
  void aRefusedSubscriptionIsABypassAndNotRecorded() {
    RecordingPortSubscriber sub = new RecordingPortSubscriber(Set.of(8080));
    ListenOps ops =
        new ListenOps(LayerConfig.Incoming.STEAL, Map.of(), Set.of(), LayerLog.discard(), sub);

    HookResult r = ops.onListen(new InetSocketAddress(8080), 8080);

    assertThat(r.reason()).isEqualTo(HookResult.Reason.REMOTE_REFUSED);
    assertThat(ops.listening()).isEmpty();
    ops.onListenClosed(8080);
    assertThat(sub.calls).containsExactly("subscribe 8080 STEAL");
  }

  @Test
  void theJdwpListenerPortIsParsed() {
    assertThat(ListenOps.jdwpPort("dt_socket:5005")).isEqualTo(5005);
    assertThat(ListenOps.jdwpPort("dt_socket:127.0.0.1:8000")).isEqualTo(8000);
    assertThat(ListenOps.jdwpPort(null)).isEqualTo(-1);
    assertThat(ListenOps.jdwpPort("garbage")).isEqualTo(-1);
  }
}
