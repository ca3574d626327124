package dev.mirrord.jvm.layer.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // scopes are entered for their effect only
class LayerBridgeTest {

  /** Captures every call, and whether the guard was active during it. */
  static final class RecordingHooks implements LayerHooks {
    final List<String> calls = new ArrayList<>();
    boolean guardActiveInside;
    RuntimeException toThrow;

    @Override
    public void onListen(SocketAddress requested, int boundPort) {
      guardActiveInside = BypassGuard.active();
      calls.add(requested + "->" + boundPort);
      if (toThrow != null) {
        throw toThrow;
      }
    }

    @Override
    public void onListenClosed(int localPort) {
      calls.add("closed " + localPort);
    }

    @Override
    public java.net.InetSocketAddress realPeer(int appLocalPort, java.net.InetSocketAddress seen) {
      calls.add("peer " + appLocalPort + " " + seen.getPort());
      return seen.getPort() == 40000 ? new java.net.InetSocketAddress("198.18.0.100", 5555) : null;
    }
  }

  @org.junit.jupiter.api.Test
  void relayedLoopbackPeersAreReplacedOthersStay() {
    RecordingHooks h = new RecordingHooks();
    LayerBridge.register(h);
    java.net.InetSocketAddress local = new java.net.InetSocketAddress("127.0.0.1", 8080);
    java.net.InetSocketAddress relayed = new java.net.InetSocketAddress("127.0.0.1", 40000);
    java.net.InetSocketAddress other = new java.net.InetSocketAddress("127.0.0.1", 40001);
    java.net.InetSocketAddress remote = new java.net.InetSocketAddress("198.18.0.7", 40000);
    assertThat(LayerBridge.peerFor(local, relayed))
        .isEqualTo(new java.net.InetSocketAddress("198.18.0.100", 5555));
    assertThat(LayerBridge.peerFor(local, other)).isSameAs(other);
    assertThat(LayerBridge.peerFor(local, remote)).as("not loopback: never asked").isSameAs(remote);
    assertThat(h.calls).containsExactly("peer 8080 40000", "peer 8080 40001");
  }

  /** Redirects /etc/hosts only, and records what reached it. */
  static final class FileHooks implements LayerHooks {
    final List<String> asked = new ArrayList<>();

    @Override
    public void onListen(SocketAddress requested, int boundPort) {}

    @Override
    public void onListenClosed(int localPort) {}

    @Override
    public java.net.InetSocketAddress realPeer(int appLocalPort, java.net.InetSocketAddress seen) {
      return null;
    }

    @Override
    public String readInstead(String path) {
      asked.add(path + (BypassGuard.active() ? " (guarded)" : ""));
      return path.equals("/etc/hosts") ? "/session/target-hosts" : null;
    }
  }

  @Test
  void readOnlyOpensOfResolverFileNamesAreAskedEverythingElseIsNot() {
    FileHooks h = new FileHooks();
    assertThat(LayerBridge.openForRead("/etc/hosts")).as("no hooks yet").isEqualTo("/etc/hosts");
    LayerBridge.register(h);

    assertThat(LayerBridge.openForRead("/etc/hosts")).isEqualTo("/session/target-hosts");
    assertThat(LayerBridge.openForRead("/etc/hosts", 1)).as("RandomAccessFile \"r\"").isEqualTo("/session/target-hosts");
    assertThat(LayerBridge.openForRead("/etc/hosts", 2)).as("\"rw\": a write stays local").isEqualTo("/etc/hosts");
    assertThat(LayerBridge.openForRead("/app/lib/x.jar")).isEqualTo("/app/lib/x.jar");
    assertThat(LayerBridge.openForRead("/tmp/resolv.conf")).isEqualTo("/tmp/resolv.conf");
    assertThat(LayerBridge.openForRead((String) null)).isNull();
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      assertThat(LayerBridge.openForRead("/etc/hosts")).as("the layer's own opens").isEqualTo("/etc/hosts");
    }
    assertThat(h.asked).as("only names ending in hosts or resolv.conf reach the hooks, inside the guard")
        .containsExactly("/etc/hosts (guarded)", "/etc/hosts (guarded)", "/tmp/resolv.conf (guarded)");
  }

  @Test
  void nioOpensGetAPathOfTheSameFileSystemForReadOnlyFlagsOnly() {
    LayerBridge.register(new FileHooks());
    java.nio.file.Path hosts = java.nio.file.Path.of("/etc/hosts");

    Object instead = LayerBridge.openForRead(hosts, 0);
    assertThat(instead).isEqualTo(java.nio.file.Path.of("/session/target-hosts"));
    assertThat(instead.getClass()).isSameAs(hosts.getClass());
    assertThat(LayerBridge.openForRead(hosts, 1)).as("O_WRONLY").isSameAs(hosts);
    assertThat(LayerBridge.openForRead(hosts, 2 | 64)).as("O_RDWR|O_CREAT").isSameAs(hosts);
    assertThat(LayerBridge.openForRead((Object) "/etc/hosts", 0)).as("not a Path").isEqualTo("/etc/hosts");
  }

  @AfterEach
  void unregister() {
    LayerBridge.register(null);
  }

  @Test
  void doesNothingWithoutRegisteredHooks() {
    assertThat(LayerBridge.registered()).isNull();
    assertThatCode(() -> LayerBridge.onListen(new InetSocketAddress(8080), 8080))
        .doesNotThrowAnyException();
  }

  @Test
  void forwardsToTheRegisteredHooksInsideTheGuard() {
    RecordingHooks hooks = new RecordingHooks();
    LayerBridge.register(hooks);

    LayerBridge.onListen(null, 40000);

    assertThat(hooks.calls).containsExactly("null->40000");
    assertThat(hooks.guardActiveInside).isTrue();
    assertThat(BypassGuard.active()).isFalse();
  }

  @Test
  void skipsTheHooksWhenTheCallerIsInsideTheGuard() {
    RecordingHooks hooks = new RecordingHooks();
    LayerBridge.register(hooks);

    try (var g = BypassGuard.enter()) {
      LayerBridge.onListen(new InetSocketAddress(8080), 8080);
    }

    assertThat(hooks.calls).isEmpty();
  }

  @Test
  void swallowsWhatTheHooksThrow() {
    RecordingHooks hooks = new RecordingHooks();
    hooks.toThrow = new IllegalStateException("bug in the layer");
    LayerBridge.register(hooks);

    assertThatCode(() -> LayerBridge.onListen(new InetSocketAddress(8080), 8080))
        .doesNotThrowAnyException();
    assertThat(BypassGuard.active()).isFalse();
  }

  @Test
  void portOfKnowsInetAddressesOnly() {
    assertThat(LayerBridge.portOf(new InetSocketAddress("127.0.0.1", 5432))).isEqualTo(5432);
    assertThat(LayerBridge.portOf(UnixDomainSocketAddress.of("/tmp/x.sock"))).isEqualTo(-1);
    assertThat(LayerBridge.portOf(null)).isEqualTo(-1);
  }
}
