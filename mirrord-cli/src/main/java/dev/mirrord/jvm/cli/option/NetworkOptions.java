package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.config.ConfigLoader;
import dev.mirrord.jvm.cli.config.HttpFilterConfig;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.config.PortMapping;
import dev.mirrord.jvm.picocli.OptionSpecs;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** Incoming, outgoing and DNS flags. A flag that is absent leaves the lower config levels alone. */
public final class NetworkOptions {

  // The flags, set by bind() from the parsed model (see addTo()).
  boolean steal;
  List<String> portMap = new ArrayList<>();
  String httpHeaderFilter;
  String httpPathFilter;
  boolean noOutgoing;
  boolean noTcpOutgoing;
  boolean noUdpOutgoing;
  boolean noRemoteDns;

  static void addTo(CommandSpec spec) {
    spec.addOption(
        OptionSpecs.flag("Steal the target's incoming TCP traffic instead of mirroring it.", "--tcp-steal", "--steal"));
    spec.addOption(
        OptionSpecs.list(
            "LOCAL:REMOTE",
            String.class,
            null,
            "The app listens on LOCAL for the target's port REMOTE (repeatable).",
            "-p",
            "--port-map"));
    spec.addOption(
        OptionSpecs.option(
            "--http-header-filter",
            "REGEX",
            String.class,
            "Steal only the HTTP requests with a header matching REGEX (as 'Name: value', case-insensitive);"
                + " the target keeps the rest. Implies --tcp-steal."));
    spec.addOption(
        OptionSpecs.option(
            "--http-path-filter",
            "REGEX",
            String.class,
            "Steal only the HTTP requests whose path (or path?query) matches REGEX; the target keeps the"
                + " rest. Implies --tcp-steal."));
    spec.addOption(OptionSpecs.flag("Outgoing TCP and UDP stay local.", "--no-outgoing"));
    spec.addOption(OptionSpecs.flag("Outgoing TCP stays local.", "--no-tcp-outgoing"));
    spec.addOption(OptionSpecs.flag("Outgoing UDP stays local.", "--no-udp-outgoing"));
    spec.addOption(OptionSpecs.flag("Resolve names locally.", "--no-remote-dns"));
  }

  void bind(CommandSpec spec) {
    steal = OptionSpecs.value(spec, "--tcp-steal", false);
    portMap = OptionSpecs.value(spec, "--port-map", new ArrayList<String>());
    httpHeaderFilter = OptionSpecs.value(spec, "--http-header-filter", null);
    httpPathFilter = OptionSpecs.value(spec, "--http-path-filter", null);
    noOutgoing = OptionSpecs.value(spec, "--no-outgoing", false);
    noTcpOutgoing = OptionSpecs.value(spec, "--no-tcp-outgoing", false);
    noUdpOutgoing = OptionSpecs.value(spec, "--no-udp-outgoing", false);
    noRemoteDns = OptionSpecs.value(spec, "--no-remote-dns", false);
  }

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
    HttpFilterConfig filter = null;
    if (httpHeaderFilter != null || httpPathFilter != null) {
      if (httpHeaderFilter != null && httpPathFilter != null) {
        throw new MirrordException(ExitCode.USAGE, "--http-header-filter and --http-path-filter cannot be combined;"
            + " give one (or use incoming.http_filter.all_of in the config file)");
      }
      String flag = httpHeaderFilter != null ? "--http-header-filter" : "--http-path-filter";
      try {
        filter = new HttpFilterConfig(httpHeaderFilter, httpPathFilter, null, null, null, null);
        filter.toFilter(flag);
      } catch (IllegalArgumentException e) {
        throw new MirrordException(ExitCode.USAGE, "bad value for " + e.getMessage() + "; fix the value");
      }
      mode = MirrordConfig.IncomingMode.STEAL;
    }
    if (mode == null && mappings == null) {
      return null;
    }
    MirrordConfig.Incoming in = new MirrordConfig.Incoming(mode, mappings, null);
    return filter == null ? in : in.withHttpFilter(filter);
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
