package dev.mirrord.jvm.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.protocol.Http;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A config file written for metalbear's mirrord loads: what we implement is mapped, the rest warned about. */
class MirrordLayoutTest {
  @TempDir Path tmp;

  @Test
  void aMirrordJsonWithHeaderFilterStealAndPortMappingLoads() throws IOException {
    Path f = tmp.resolve("mirrord.json");
    Files.writeString(f, """
        {
          "target": {"path": "pod/web/container/app", "namespace": "shop"},
          "kube_context": "dev",
          "accept_invalid_certificates": false,
          "feature": {
            "network": {
              "incoming": {
                "mode": "steal",
                "http_filter": {"header_filter": "^x-dev: alice$", "ports": [8080]},
                "port_mapping": [[9090, 8080]],
                "ignore_ports": [9999],
                "on_concurrent_steal": "abort"
              },
              "outgoing": {"tcp": true, "udp": false, "filter": {"remote": ["svc:8080"]}},
              "dns": {"enabled": true, "filter": {"local": ["x"]}}
            },
            "env": {"include": "DB_*;API_URL", "override": {"A": "b"}},
            "fs": "read"
          },
          "agent": {"namespace": "mirrord", "ttl": 30}
        }
        """);
    ConfigLoader loader = new ConfigLoader(Map.of());
    MirrordConfig cfg = loader.load(f, MirrordConfig.EMPTY);
    assertThat(cfg.target()).isEqualTo("pod/web/container/app");
    assertThat(cfg.namespace()).isEqualTo("shop");
    assertThat(cfg.context()).isEqualTo("dev");
    assertThat(cfg.incoming().mode()).isEqualTo(MirrordConfig.IncomingMode.STEAL);
    assertThat(cfg.incoming().portMap()).containsExactly(new PortMapping(9090, 8080));
    assertThat(cfg.incoming().ignorePorts()).containsExactly(9999);
    assertThat(cfg.incoming().httpFilter().toFilter("x")).isEqualTo(new Http.Filter.Header("^x-dev: alice$"));
    assertThat(cfg.incoming().httpFilter().portSet()).containsExactly(8080);
    assertThat(cfg.outgoing().tcp()).isTrue();
    assertThat(cfg.outgoing().udp()).isFalse();
    assertThat(cfg.outgoing().filterOrEmpty().remote()).containsExactly("svc:8080");
    assertThat(cfg.dns().remote()).isTrue();
    assertThat(cfg.env().include()).containsExactly("DB_*", "API_URL");
    assertThat(cfg.agent().namespace()).isEqualTo("mirrord");
    assertThat(loader.warnings()).containsExactlyInAnyOrder(
        "config: mirrord's key 'accept_invalid_certificates' is not supported by mirrord for the JVM; ignored",
        "config: mirrord's key 'feature.network.incoming.on_concurrent_steal' is not supported by mirrord for the JVM; ignored",
        "config: mirrord's key 'feature.network.dns.filter' is not supported by mirrord for the JVM; ignored",
        "config: mirrord's key 'feature.env.override' is not supported by mirrord for the JVM; ignored",
        "config: mirrord's key 'feature.fs' is not supported by mirrord for the JVM; ignored");
    assertThat(cfg.agent().ttlSeconds()).as("mirrord's agent.ttl: the agent stays for the next session").isEqualTo(30);
  }

  @Test
  void shortFormsOfMirrordsFeatures() throws IOException {
    Path f = tmp.resolve("mirrord.json");
    Files.writeString(f, """
        {"target": "deployment/api", "feature": {"network": {"incoming": "steal", "outgoing": false, "dns": false},
         "env": false}}
        """);
    ConfigLoader loader = new ConfigLoader(Map.of());
    MirrordConfig cfg = loader.load(f, MirrordConfig.EMPTY);
    assertThat(cfg.target()).isEqualTo("deployment/api");
    assertThat(cfg.incoming().mode()).isEqualTo(MirrordConfig.IncomingMode.STEAL);
    assertThat(cfg.outgoing()).isEqualTo(new MirrordConfig.Outgoing(false, false));
    assertThat(cfg.dns().remote()).isFalse();
    assertThat(cfg.env().importEnv()).isFalse();
    assertThat(loader.warnings()).isEmpty();
  }
}
