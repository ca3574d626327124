package dev.mirrord.jvm.podagent.iptables;

import java.io.IOException;

/** One iptables family (IPv4 or IPv6) in the namespace the agent runs in. */
public interface IpTables {

  /** A short name for logs, e.g. {@code iptables-nft}. */
  String name();

  /** {@code iptables-save -t <table>}. */
  String save(String table) throws IOException;

  /** {@code iptables-restore --noflush} of {@code script}: all of it applies, or none. */
  void restore(String script) throws IOException;

  /** Shell commands (one per line, each allowed to fail) that delete {@code chains}; for the watchdog. */
  String shellCleanup(ChainNames chains);
}
