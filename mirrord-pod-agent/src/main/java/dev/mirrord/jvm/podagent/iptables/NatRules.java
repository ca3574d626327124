package dev.mirrord.jvm.podagent.iptables;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Builds {@code iptables-restore} scripts for the nat table and reads {@code iptables-save}
 * output. Pure functions: every rule we add is spelled here once.
 */
public final class NatRules {
  private NatRules() {}

  /** Creates both chains and jumps to them first thing in PREROUTING and OUTPUT. */
  public static String install(ChainNames c, int agentGid) {
    return install(c, agentGid, List.of());
  }

  /**
   * As {@link #install(ChainNames, int)}, and the OUTPUT chain also lets through the sockets of
   * {@code passThroughGids}: this agent's own pass-through gid and those of the agents whose chains
   * exist already (below ours), so that an unmatched request of HTTP-filtered steal reaches the next
   * older filtering agent, and that one's the target's own server (see ARCHITECTURE.md).
   */
  public static String install(ChainNames c, int agentGid, List<Integer> passThroughGids) {
    StringBuilder s = new StringBuilder("*nat\n");
    s.append(':').append(c.input()).append(" - [0:0]\n");
    s.append(':').append(c.output()).append(" - [0:0]\n");
    // A no-op that keeps connection tracking on in this namespace for as long as the chains exist.
    // A pod usually has no other conntrack user: when our last REDIRECT rule went, the kernel would
    // stop tracking, and the replies of connections still being relayed (hand-back grace period,
    // closing) would leave from the agent's port un-NATed: lost, the clients hanging until a timeout.
    s.append("-A ").append(c.input()).append(" -m conntrack --ctstate INVALID -j RETURN\n");
    if (agentGid > 0) {
      // The agent's own connections (outgoing traffic made for the user's app) must never loop back.
      s.append("-A ").append(c.output()).append(" -m owner --gid-owner ").append(agentGid)
          .append(" -j RETURN\n");
    }
    for (int gid : passThroughGids) {
      s.append("-A ").append(c.output()).append(" -m owner --gid-owner ").append(Integer.toUnsignedString(gid))
          .append(" -j RETURN\n");
    }
    s.append("-I PREROUTING 1 -j ").append(c.input()).append('\n');
    s.append("-I OUTPUT 1 -j ").append(c.output()).append('\n');
    return s.append("COMMIT\n").toString();
  }

  /** Redirects new TCP connections to {@code port} in the target to the agent's {@code toPort}. */
  public static String redirect(ChainNames c, int port, int toPort) {
    return redirect(c, port, toPort, null);
  }

  /**
   * As {@link #redirect(ChainNames, int, int)}, the rules carrying {@code comment} (e.g. {@code
   * mirrord-http session=…}): what other agents read to tell a filtered steal from a whole one and
   * to name the session.
   */
  public static String redirect(ChainNames c, int port, int toPort, String comment) {
    return "*nat\n" + "-A " + inRule(c, port, toPort, comment) + "\n" + "-A " + outRule(c, port, toPort, comment)
        + "\n" + "COMMIT\n";
  }

  /** Undoes {@link #redirect}. */
  public static String unredirect(ChainNames c, int port, int toPort) {
    return unredirect(c, port, toPort, null);
  }

  /** Undoes {@link #redirect(ChainNames, int, int, String)}. */
  public static String unredirect(ChainNames c, int port, int toPort, String comment) {
    return "*nat\n" + "-D " + inRule(c, port, toPort, comment) + "\n" + "-D " + outRule(c, port, toPort, comment)
        + "\n" + "COMMIT\n";
  }

  private static String inRule(ChainNames c, int port, int toPort, String comment) {
    return c.input() + " -p tcp -m tcp --dport " + port + comment(comment) + " -j REDIRECT --to-ports " + toPort;
  }

  private static String outRule(ChainNames c, int port, int toPort, String comment) {
    return c.output() + " -o lo -p tcp -m tcp --dport " + port + comment(comment) + " -j REDIRECT --to-ports "
        + toPort;
  }

  private static String comment(String comment) {
    if (comment == null) {
      return "";
    }
    String safe = comment.replaceAll("[^A-Za-z0-9=_.:/@ -]", "_");
    return " -m comment --comment \"" + (safe.length() > 200 ? safe.substring(0, 200) : safe) + "\"";
  }

  /** One redirect rule of a chain: the target port and the rule's comment ("" if none). */
  public record Redirect(int port, String comment) {}

  /** The redirects of {@code c}'s input chain in an {@code iptables-save -t nat} output. */
  public static List<Redirect> redirects(String save, ChainNames c) {
    List<Redirect> out = new ArrayList<>();
    String prefix = "-A " + c.input() + " ";
    for (String line : save.split("\n")) {
      if (line.startsWith(prefix)) {
        int port = -1;
        String[] w = line.split("\\s+");
        for (int i = 0; i + 1 < w.length; i++) {
          if (w[i].equals("--dport")) {
            port = Integer.parseInt(w[i + 1]);
          }
        }
        String comment = "";
        int at = line.indexOf("--comment ");
        if (at >= 0) {
          String rest = line.substring(at + "--comment ".length());
          if (rest.startsWith("\"")) {
            int end = rest.indexOf('"', 1);
            comment = end > 0 ? rest.substring(1, end) : rest.substring(1);
          } else {
            comment = rest.split("\\s+")[0];
          }
        }
        if (port > 0) {
          out.add(new Redirect(port, comment));
        }
      }
    }
    return out;
  }

  /** Our chains present in an {@code iptables-save -t nat} output. */
  public static Set<ChainNames> chainsIn(String save) {
    Set<ChainNames> out = new LinkedHashSet<>();
    for (String line : save.split("\n")) {
      if (line.startsWith(":" + ChainNames.PREFIX)) {
        ChainNames.parse(line.substring(1, line.indexOf(' ') > 0 ? line.indexOf(' ') : line.length()))
            .ifPresent(out::add);
      }
    }
    return out;
  }

  /** Target ports redirected by {@code c} in an {@code iptables-save -t nat} output. */
  public static Set<Integer> redirectedPorts(String save, ChainNames c) {
    Set<Integer> ports = new LinkedHashSet<>();
    String prefix = "-A " + c.input() + " ";
    for (String line : save.split("\n")) {
      if (line.startsWith(prefix)) {
        String[] w = line.split("\\s+");
        for (int i = 0; i + 1 < w.length; i++) {
          if (w[i].equals("--dport")) {
            ports.add(Integer.parseInt(w[i + 1]));
          }
        }
      }
    }
    return ports;
  }

  /**
   * A script that removes every chain matching {@code which} and every rule jumping to it, built
   * from what {@code save} shows is there; {@code null} when there is nothing to remove.
   */
  public static String removal(String save, Predicate<ChainNames> which) {
    Set<String> chains = new LinkedHashSet<>();
    for (ChainNames c : chainsIn(save)) {
      if (which.test(c)) {
        chains.add(c.input());
        chains.add(c.output());
      }
    }
    Set<String> present = new LinkedHashSet<>();
    for (String line : save.split("\n")) {
      if (line.startsWith(":")) {
        present.add(line.substring(1).split("\\s+")[0]);
      }
    }
    chains.retainAll(present);
    if (chains.isEmpty()) {
      return null;
    }
    List<String> deletes = new ArrayList<>();
    for (String line : save.split("\n")) {
      if (line.startsWith("-A ")) {
        String[] w = line.split("\\s+");
        boolean ownChain = chains.contains(w[1]);
        boolean jumpsToOurs = false;
        for (int i = 0; i + 1 < w.length; i++) {
          if ((w[i].equals("-j") || w[i].equals("-g")) && chains.contains(w[i + 1])) {
            jumpsToOurs = true;
          }
        }
        if (jumpsToOurs && !ownChain) {
          deletes.add("-D " + line.substring(3));
        }
      }
    }
    StringBuilder s = new StringBuilder("*nat\n");
    deletes.forEach(d -> s.append(d).append('\n'));
    chains.forEach(c -> s.append("-F ").append(c).append('\n'));
    chains.forEach(c -> s.append("-X ").append(c).append('\n'));
    return s.append("COMMIT\n").toString();
  }
}
