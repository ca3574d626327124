package dev.mirrord.jvm.podagent.iptables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PortRedirector} over iptables nat REDIRECT rules, for IPv4 and (where present) IPv6.
 * Chains are installed lazily on the first redirect, so an agent that never steals touches no
 * rule. Leftover chains of dead agents are removed when this redirector is created, with a log line.
 */
public final class IpTablesRedirector implements PortRedirector {
  private static final Logger logger = LoggerFactory.getLogger(IpTablesRedirector.class);

  private final List<IpTables> families;
  private final ChainNames chains;
  private final int agentGid;
  private final LongPredicate agentAlive;
  private boolean installed;
  private boolean closed;

  public IpTablesRedirector(
      List<IpTables> families, ChainNames chains, int agentGid, LongPredicate agentAlive) {
    if (families.isEmpty()) {
      throw new IllegalArgumentException("no iptables available");
    }
    this.families = List.copyOf(families);
    this.chains = chains;
    this.agentGid = agentGid;
    this.agentAlive = agentAlive;
  }

  public ChainNames chains() {
    return chains;
  }

  /** Removes chains whose agent pid is dead; returns how many chain pairs went. */
  public synchronized int sweepLeftovers() {
    int removed = 0;
    for (IpTables ipt : families) {
      try {
        String save = ipt.save("nat");
        Set<ChainNames> dead = new HashSet<>();
        for (ChainNames c : NatRules.chainsIn(save)) {
          if (!c.equals(chains) && !agentAlive.test(c.agentPid())) {
            dead.add(c);
          }
        }
        String script = NatRules.removal(save, dead::contains);
        if (script != null) {
          ipt.restore(script);
          logger.warn("removed iptables chains left by a dead mirrord agent ({}): {}", ipt.name(), dead);
          removed += dead.size();
        }
      } catch (IOException e) {
        logger.warn("could not sweep leftover chains with {}: {}", ipt.name(), e.getMessage());
      }
    }
    return removed;
  }

  @Override
  public synchronized void redirect(int targetPort, int agentPort) throws IOException {
    redirect(targetPort, agentPort, null);
  }

  @Override
  public synchronized void unredirect(int targetPort, int agentPort) throws IOException {
    unredirect(targetPort, agentPort, null);
  }

  /** This agent's pass-through gid and those of the live agents whose chains are installed already. */
  private List<Integer> passThroughGids(IpTables ipt) {
    List<Integer> gids = new ArrayList<>(List.of(chains.passThroughGid()));
    try {
      for (ChainNames c : NatRules.chainsIn(ipt.save("nat"))) {
        if (!c.equals(chains) && agentAlive.test(c.agentPid()) && !gids.contains(c.passThroughGid())) {
          gids.add(c.passThroughGid());
        }
      }
    } catch (IOException e) {
      logger.warn("could not list other agents' chains ({}): {}", ipt.name(), e.getMessage());
    }
    return gids;
  }

  @Override
  public synchronized void redirect(int targetPort, int agentPort, String comment) throws IOException {
    check();
    if (!installed) {
      List<IpTables> done = new ArrayList<>();
      try {
        for (IpTables ipt : families) {
          ipt.restore(NatRules.install(chains, agentGid, passThroughGids(ipt)));
          done.add(ipt);
        }
      } catch (IOException e) {
        removeFrom(done);
        throw e;
      }
      installed = true;
    }
    List<IpTables> done = new ArrayList<>();
    try {
      for (IpTables ipt : families) {
        ipt.restore(NatRules.redirect(chains, targetPort, agentPort, comment));
        done.add(ipt);
      }
    } catch (IOException e) {
      for (IpTables ipt : done) {
        try {
          ipt.restore(NatRules.unredirect(chains, targetPort, agentPort, comment));
        } catch (IOException ignored) {
          // close() still removes the whole chain
        }
      }
      throw e;
    }
    logger.info("redirecting target port {} to agent port {} ({})", targetPort, agentPort, chains.input());
  }

  @Override
  public synchronized void unredirect(int targetPort, int agentPort, String comment) throws IOException {
    if (closed || !installed) {
      return;
    }
    IOException first = null;
    for (IpTables ipt : families) {
      try {
        ipt.restore(NatRules.unredirect(chains, targetPort, agentPort, comment));
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
    logger.info("stopped redirecting target port {}", targetPort);
  }

  @Override
  public synchronized Set<Integer> portsStolenByOthers() throws IOException {
    Set<Integer> ports = new HashSet<>();
    String save = families.get(0).save("nat");
    for (ChainNames c : NatRules.chainsIn(save)) {
      if (!c.equals(chains) && agentAlive.test(c.agentPid())) {
        ports.addAll(NatRules.redirectedPorts(save, c));
      }
    }
    return ports;
  }

  @Override
  public synchronized List<OtherSteal> stealsByOthers() throws IOException {
    List<OtherSteal> out = new ArrayList<>();
    String save = families.get(0).save("nat");
    for (ChainNames c : NatRules.chainsIn(save)) {
      if (!c.equals(chains) && agentAlive.test(c.agentPid())) {
        for (NatRules.Redirect r : NatRules.redirects(save, c)) {
          out.add(new OtherSteal(r.port(), r.comment(), c.agentPid()));
        }
      }
    }
    return out;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    removeFrom(families);
  }

  private void removeFrom(List<IpTables> which) {
    for (IpTables ipt : which) {
      try {
        String script = NatRules.removal(ipt.save("nat"), chains::equals);
        if (script != null) {
          ipt.restore(script);
          logger.info("removed iptables chains {} and {} ({})", chains.input(), chains.output(), ipt.name());
        }
      } catch (IOException e) {
        logger.error("could not remove chains {} with {}: {}", chains, ipt.name(), e.getMessage());
      }
    }
  }

  private void check() {
    if (closed) {
      throw new IllegalStateException("redirector closed");
    }
  }
}
