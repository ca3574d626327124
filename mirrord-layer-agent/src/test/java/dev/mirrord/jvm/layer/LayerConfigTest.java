package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.testing.SessionFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LayerConfigTest {
  @TempDir Path dir;

  private Path session(Map<String, String> overrides) throws IOException {
    return SessionFile.write(dir, 40123, overrides);
  }

  private static Map<String, String> with(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void readsEveryKeyOfTheSessionFile() throws Exception {
    Path file =
        session(
            with(
                "log.level", "debug",
                "incoming.mode", "steal",
                "port.map", "8080:80, 9090:9091",
                "ignore.ports", "22,8081",
                "outgoing.tcp", "false",
                "outgoing.udp", "FALSE",
                "dns.remote", "false",
                "session.id", "abc-123",
                "incoming.relay.address", "127.83.4.19",
                "incoming.relay.ports6", "20000-20255",
                "on.disconnect", "CONTINUE",
                "handshake.timeout.ms", "30000"));

    LayerConfig c = LayerConfig.load(file.toString());

    assertThat(c.sessionFile()).isEqualTo(file);
    assertThat(c.proxyHost()).isEqualTo("127.0.0.1");
    assertThat(c.proxyPort()).isEqualTo(40123);
    assertThat(c.token()).isEqualTo(dev.mirrord.jvm.layer.testing.FakeAgent.TOKEN);
    assertThat(c.logFile()).isEqualTo(dir.resolve("layer.log"));
    assertThat(c.logLevel()).isEqualTo(LayerLog.Level.DEBUG);
    assertThat(c.incomingMode()).isEqualTo(LayerConfig.Incoming.STEAL);
    assertThat(c.portMap()).containsExactly(Map.entry(8080, 80), Map.entry(9090, 9091));
    assertThat(c.ignorePorts()).containsExactly(22, 8081);
    assertThat(c.outgoingTcp()).isFalse();
    assertThat(c.outgoingUdp()).isFalse();
    assertThat(c.dnsRemote()).isFalse();
    assertThat(c.sessionId()).isEqualTo("abc-123");
    assertThat(c.relaySource()).hasToString("127.83.4.19 [::1]:20000-20255");
    assertThat(c.onDisconnect()).isEqualTo(LayerConfig.OnDisconnect.CONTINUE);
    assertThat(c.handshakeTimeoutMillis()).isEqualTo(30_000);
    assertThat(c.remotePortFor(8080)).isEqualTo(80);
    assertThat(c.remotePortFor(7000)).isEqualTo(7000);
  }

  @Test
  void optionalKeysHaveDefaults() throws Exception {
    Properties p = SessionFileProps.required();

    LayerConfig c = LayerConfig.parse(p, Path.of("/tmp/s.properties"));

    assertThat(c.logLevel()).isEqualTo(LayerLog.Level.INFO);
    assertThat(c.incomingMode()).isEqualTo(LayerConfig.Incoming.MIRROR);
    assertThat(c.portMap()).isEmpty();
    assertThat(c.ignorePorts()).isEmpty();
    assertThat(c.outgoingTcp()).isTrue();
    assertThat(c.outgoingUdp()).isTrue();
    assertThat(c.dnsRemote()).isTrue();
    assertThat(c.sessionId()).isEmpty();
    assertThat(c.resolverFiles()).isEqualTo(LayerConfig.ResolverFiles.NONE);
    assertThat(c.relaySource()).as("a CLI that names no relay address relayed from 127.0.0.1")
        .isSameAs(dev.mirrord.jvm.layer.socket.RelaySource.LEGACY);
    assertThat(c.onDisconnect()).isEqualTo(LayerConfig.OnDisconnect.EXIT);
    assertThat(c.handshakeTimeoutMillis()).isEqualTo(5000);
  }

  @Test
  void theTargetsResolverFilesAreReadWithRemoteDnsOnlyAndMustBeAbsolute() throws Exception {
    Properties p = SessionFileProps.required();
    p.setProperty("dns.resolv_conf", "/tmp/mirrord-1/target-resolv.conf");
    p.setProperty("dns.files.problem", "the target's /etc/hosts cannot be read");

    assertThat(LayerConfig.parse(p, Path.of("/tmp/s.properties")).resolverFiles())
        .isEqualTo(new LayerConfig.ResolverFiles(
            Path.of("/tmp/mirrord-1/target-resolv.conf"), null, "the target's /etc/hosts cannot be read"));
    p.setProperty("dns.remote", "false");
    assertThat(LayerConfig.parse(p, Path.of("/tmp/s.properties")).resolverFiles())
        .isEqualTo(LayerConfig.ResolverFiles.NONE);
    p.setProperty("dns.remote", "true");
    p.setProperty("dns.hosts", "target-hosts");
    assertThatThrownBy(() -> LayerConfig.parse(p, Path.of("/tmp/s.properties")))
        .hasMessage("session file /tmp/s.properties: key 'dns.hosts' must be an absolute path, got 'target-hosts'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"proxy.host", "proxy.port", "token", "log.file"})
  void aMissingRequiredKeyIsNamedWithTheFile(String key) throws Exception {
    Path file = session(with(key, null));

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .isInstanceOf(LayerConfigException.class)
        .hasMessage("session file " + file + ": key '" + key + "' is missing");
  }

  @Test
  void anEmptyRequiredKeyIsNamed() throws Exception {
    Path file = session(with("token", "  "));

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .hasMessage("session file " + file + ": key 'token' is empty");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "proxy.port|abc|must be a TCP port (1-65535), got 'abc'",
        "proxy.port|0|must be a TCP port (1-65535), got '0'",
        "proxy.port|70000|must be a TCP port (1-65535), got '70000'",
        "log.level|loud|must be one of debug, info, warn, error, got 'loud'",
        "incoming.mode|copy|must be one of mirror, steal, off, got 'copy'",
        "port.map|8080|entry '8080' must be <local port>:<remote port>",
        "port.map|8080:x|must be a TCP port (1-65535), got 'x'",
        "port.map|8080:80,8080:81|maps local port 8080 twice",
        "ignore.ports|22,ssh|must be a TCP port (1-65535), got 'ssh'",
        "outgoing.tcp|yes|must be true or false, got 'yes'",
        "dns.remote|1|must be true or false, got '1'",
        "incoming.relay.address|10.0.0.1|must be an IPv4 address in 127.0.0.0/8, got '10.0.0.1'",
        "incoming.relay.address|::1|must be an IPv4 address in 127.0.0.0/8, got '::1'",
        "incoming.relay.address|localhost|must be an IPv4 address in 127.0.0.0/8, got 'localhost'",
        "incoming.relay.ports6|20000|must be <first port>-<last port>, got '20000'",
        "incoming.relay.ports6|20010-20000|must be <first port>-<last port>, got '20010-20000'",
        "incoming.relay.ports6|1-70000|must be a TCP port (1-65535), got '70000'",
        "on.disconnect|die|must be one of exit, continue, got 'die'",
        "handshake.timeout.ms|0|must be a number of milliseconds (1 or more), got '0'",
        "handshake.timeout.ms|5s|must be a number of milliseconds (1 or more), got '5s'",
      })
  void aBadValueIsNamedWithItsKeyAndTheFile(String key, String value, String problem)
      throws Exception {
    Path file = session(with(key, value));

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .isInstanceOf(LayerConfigException.class)
        .hasMessage("session file " + file + ": key '" + key + "' " + problem);
  }

  @Test
  void aBadValueStillNamesTheLogFileForTheStderrLine() throws Exception {
    Path file = session(with("proxy.port", "nope"));

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .isInstanceOfSatisfying(
            LayerConfigException.class,
            e -> assertThat(e.logFile()).isEqualTo(dir.resolve("layer.log")));
  }

  @Test
  void aMissingSessionFileMeansTheSessionHasEnded() {
    Path file = dir.resolve("nope.properties");

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .isInstanceOf(LayerConfigException.class)
        .hasMessage(
            "no mirrord session at " + file + ": it has ended (or not started yet); the app runs"
                + " without mirrord")
        .satisfies(e -> assertThat(((LayerConfigException) e).noSession()).isTrue());
  }

  @Test
  void skipSettingsDefaultToBuildToolsOnlyAndReadGlobLists() throws Exception {
    LayerConfig defaults = LayerConfig.load(session(with()).toString());
    LayerConfig set =
        LayerConfig.load(
            session(with("skip.build_tools", "false", "skip.jvms", " com.x.* , ,*-cli.jar")).toString());

    assertThat(defaults.skipBuildTools()).isTrue();
    assertThat(defaults.skipJvms()).isEmpty();
    assertThat(set.skipBuildTools()).isFalse();
    assertThat(set.skipJvms()).containsExactly("com.x.*", "*-cli.jar");
  }

  @Test
  void aBadSkipBuildToolsValueNamesTheKey() throws Exception {
    Path file = session(with("skip.build_tools", "maybe"));

    assertThatThrownBy(() -> LayerConfig.load(file.toString()))
        .hasMessage("session file " + file + ": key 'skip.build_tools' must be true or false, got 'maybe'");
  }

  @Test
  void noAgentArgumentSaysHowToGiveOne() {
    assertThatThrownBy(() -> LayerConfig.load(null))
        .hasMessage(
            "no session file given (expected -javaagent:mirrord-layer-agent.jar=<session file>)");
    assertThatThrownBy(() -> LayerConfig.load(" ")).isInstanceOf(LayerConfigException.class);
  }

  @Test
  void aDirectoryIsNotASessionFile() {
    assertThatThrownBy(() -> LayerConfig.load(dir.toString()))
        .hasMessageStartingWith("cannot read session file " + dir);
  }

  @Test
  void theTokenNeverShowsInToString() throws Exception {
    Path file = session(Map.of());
    assertThat(LayerConfig.load(file.toString()).toString())
        .doesNotContain(dev.mirrord.jvm.layer.testing.FakeAgent.TOKEN)
        .contains("token=<redacted>");
    assertThat(Files.exists(file)).isTrue();
  }

  /** The required keys only. */
  static final class SessionFileProps {
    static Properties required() {
      Properties p = new Properties();
      p.setProperty("proxy.host", "127.0.0.1");
      p.setProperty("proxy.port", "1234");
      p.setProperty("token", "t");
      p.setProperty("log.file", "/tmp/x.log");
      return p;
    }
  }
}
