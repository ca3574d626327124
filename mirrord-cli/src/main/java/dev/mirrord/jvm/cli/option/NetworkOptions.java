package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.ConfigLoader;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.PortMapping;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Incoming, outgoing and DNS flags. A flag that is absent leaves the lower config levels alone. */
public final class NetworkOptions {

  @Option(
      names = {"--tcp-steal", "--steal"},
      description = "Steal the target's incoming TCP traffic instead of mirroring it.")
  boolean steal;

  @Option(
      names = {"-p", "--port-map"},
      paramLabel = "LOCAL:REMOTE",
      description = "The app listens on LOCAL for the target's port REMOTE (repeatable).")
  List<String> portMap = new ArrayList<>();

  @Option(names = "--no-outgoing", description = "Outgoing TCP and UDP stay local.")
  boolean noOutgoing;

  @Option(names = "--no-tcp-outgoing", description = "Outgoing TCP stays local.")
  boolean noTcpOutgoing;

  @Option(names = "--no-udp-outgoing", description = "Outgoing UDP stays local.")
  boolean noUdpOutgoing;

  @Option(names = "--no-remote-dns", description = "Resolve names locally.")
  boolean noRemoteDns;

  /**
   * @throws MirrordException USAGE for a malformed --port-map
   */
  public MirrordConfig.Incoming incoming() {
    List<PortMapping> mappings = null;
    if (!portMap.isEmpty()) {
      mappings = new ArrayList<>();
      for (String value : portMap) {
        for (String item : ConfigLoader.commaList(value)) {
          try {
            mappings.add(PortMapping.parse(item));
          } catch (IllegalArgumentException e) {
            throw new MirrordException(
                ExitCode.USAGE, "bad value for --port-map: " + e.getMessage() + "; fix the value");
          }
        }
      }
    }
    MirrordConfig.IncomingMode mode = steal ? MirrordConfig.IncomingMode.STEAL : null;
    return mode == null && mappings == null ? null : new MirrordConfig.Incoming(mode, mappings, null);
  }

  public MirrordConfig.Outgoing outgoing() {
    Boolean tcp = noOutgoing || noTcpOutgoing ? Boolean.FALSE : null;
    Boolean udp = noOutgoing || noUdpOutgoing ? Boolean.FALSE : null;
    return tcp == null && udp == null ? null : new MirrordConfig.Outgoing(tcp, udp);
  }

  public MirrordConfig.Dns dns() {
    return noRemoteDns ? new MirrordConfig.Dns(false) : null;
  }
}
