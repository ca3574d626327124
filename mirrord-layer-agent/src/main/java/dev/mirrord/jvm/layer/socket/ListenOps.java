package dev.mirrord.jvm.layer.socket;

import dev.mirrord.jvm.layer.LayerConfig;
import dev.mirrord.jvm.layer.bootstrap.HookResult;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.IncomingMode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a server socket bound by the app means for the session. Every TCP listen is recorded (the
 * set the next step subscribes in the target); the decision says whether the port is a candidate:
 *
 * <ul>
 *   <li>port 0 requested → the OS picked an ephemeral port nobody in the target knows: recorded as
 *       {@code ephemeral}, bypassed;
 *   <li>port in {@code ignore.ports} → bypassed;
 *   <li>{@code incoming.mode=off} → bypassed;
 *   <li>otherwise → handled: the port maps to {@code port.map}'s remote port (or itself).
 * </ul>
 *
 * Each decision is one log line: {@code listen port=8080 requested=8080 address=0.0.0.0
 * ephemeral=false remotePort=80 decision=HANDLED}.
 */
public final class ListenOps {

  /** One bound server socket as the layer saw it. */
  public record Listening(
      String address, int port, boolean ephemeral, int remotePort, HookResult decision) {

    /** Whether the next step should subscribe {@link #remotePort} in the target. */
    public boolean subscribable() {
      return !decision.isBypass();
    }
  }

  private final LayerConfig.Incoming incomingMode;
  private final Map<Integer, Integer> portMap;
  private final Set<Integer> ignorePorts;
  private final LayerLog log;
  private final PortSubscriber subscriber;
  private final Map<Integer, Listening> listening = new ConcurrentHashMap<>();
  /**
   * Open listeners per local port. Usually 0 or 1, but an app may bind a port again before the
   * close of its previous listener has been seen here (SO_REUSEPORT, or a restart whose new bind
   * races the old channel's close): the subscription ends with the port's last listener.
   */
  private final Map<Integer, Integer> openListeners = new java.util.HashMap<>();

  public ListenOps(LayerConfig config, LayerLog log, PortSubscriber subscriber) {
    this(config.incomingMode(), config.portMap(), withJdwp(config.ignorePorts()), log, subscriber);
  }

  public ListenOps(
      LayerConfig.Incoming incomingMode,
      Map<Integer, Integer> portMap,
      Set<Integer> ignorePorts,
      LayerLog log) {
    this(incomingMode, portMap, ignorePorts, log, PortSubscriber.NONE);
  }

  public ListenOps(
      LayerConfig.Incoming incomingMode,
      Map<Integer, Integer> portMap,
      Set<Integer> ignorePorts,
      LayerLog log,
      PortSubscriber subscriber) {
    this.incomingMode = incomingMode;
    this.portMap = Map.copyOf(portMap);
    this.ignorePorts = Set.copyOf(ignorePorts);
    this.log = log;
    this.subscriber = subscriber;
  }

  /**
   * The configured ignored ports plus the JDWP debug port, if this JVM runs a JDWP listener: a
   * debugger attached to the local app must never be handed the target's traffic.
   */
  static Set<Integer> withJdwp(Set<Integer> ignorePorts) {
    int jdwp = jdwpPort(System.getProperty("sun.jdwp.listenerAddress"));
    if (jdwp <= 0) {
      return ignorePorts;
    }
    Set<Integer> all = new java.util.HashSet<>(ignorePorts);
    all.add(jdwp);
    return all;
  }

  /** The JDWP listener port of this JVM, if any: it stays local in every direction. */
  public static Set<Integer> jdwpPorts() {
    return withJdwp(Set.of());
  }

  /** The port of a {@code sun.jdwp.listenerAddress} value such as {@code dt_socket:5005}. */
  static int jdwpPort(String listenerAddress) {
    if (listenerAddress == null) {
      return -1;
    }
    int colon = listenerAddress.lastIndexOf(':');
    try {
      return Integer.parseInt(listenerAddress.substring(colon + 1).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * A server socket was bound.
   *
   * @param requested what the app asked for; {@code null} means any address, any port
   * @param boundPort the port the OS bound, or -1 if unknown
   */
  public HookResult onListen(SocketAddress requested, int boundPort) {
    if (requested != null && !(requested instanceof InetSocketAddress)) {
      log.debug("listen on " + requested + ": not a TCP/IP address, not mirrord's business");
      return HookResult.bypass(HookResult.Reason.NOT_INET);
    }
    InetSocketAddress inet = (InetSocketAddress) requested;
    if (boundPort <= 0 || boundPort > 65535) {
      log.warn("listen on " + requested + ": bound port unknown (" + boundPort + "), ignored");
      return HookResult.bypass(HookResult.Reason.UNKNOWN_PORT);
    }
    int requestedPort = inet == null ? 0 : inet.getPort();
    boolean ephemeral = requestedPort == 0;
    int remotePort = portMap.getOrDefault(boundPort, boundPort);
    HookResult decision;
    if (ephemeral) {
      decision = HookResult.bypass(HookResult.Reason.EPHEMERAL_PORT);
    } else if (ignorePorts.contains(boundPort)) {
      decision = HookResult.bypass(HookResult.Reason.IGNORED_PORT);
    } else if (incomingMode == LayerConfig.Incoming.OFF) {
      decision = HookResult.bypass(HookResult.Reason.DISABLED_BY_CONFIG);
    } else {
      decision = HookResult.HANDLED;
    }
    Listening l = new Listening(addressOf(inet), boundPort, ephemeral, remotePort, decision);
    boolean alreadySubscribed;
    synchronized (openListeners) {
      Listening previous = listening.get(boundPort);
      alreadySubscribed =
          previous != null
              && previous.subscribable()
              && previous.remotePort() == remotePort
              && openListeners.getOrDefault(boundPort, 0) > 0;
      openListeners.put(boundPort, openListeners.getOrDefault(boundPort, 0) + 1); // no Integer::sum to link at a bind
      if (!alreadySubscribed) {
        listening.put(boundPort, l);
      }
    }
    log.info(
        "listen port="
            + boundPort
            + " requested="
            + requestedPort
            + " address="
            + l.address()
            + " ephemeral="
            + ephemeral
            + " remotePort="
            + remotePort
            + " mode="
            + incomingMode.name().toLowerCase(java.util.Locale.ROOT)
            + " decision="
            + decision
            + (alreadySubscribed ? " (already subscribed by another listener on this port)" : ""));
    if (l.subscribable() && !alreadySubscribed) {
      IncomingMode mode =
          incomingMode == LayerConfig.Incoming.STEAL ? IncomingMode.STEAL : IncomingMode.MIRROR;
      String error = subscriber.subscribe(remotePort, mode);
      if (error != null) {
        listening.remove(boundPort, l); // still counted as open: its close is expected
        return HookResult.bypass(HookResult.Reason.REMOTE_REFUSED);
      }
    }
    return decision;
  }

  /** A server socket bound to {@code localPort} was closed: stop its subscription, if any. */
  public void onListenClosed(int localPort) {
    Listening l;
    int stillOpen;
    synchronized (openListeners) {
      Integer open = openListeners.get(localPort);
      if (open == null) {
        return; // never seen bound (not a TCP/IP listener)
      }
      stillOpen = open - 1;
      if (stillOpen > 0) {
        openListeners.put(localPort, stillOpen);
        l = null;
      } else {
        openListeners.remove(localPort);
        l = listening.remove(localPort);
      }
    }
    if (stillOpen > 0) {
      log.info("listen port=" + localPort + " closed (" + stillOpen + " more listening on it)");
      return;
    }
    log.info("listen port=" + localPort + " closed");
    if (l != null && l.subscribable()) {
      subscriber.unsubscribe(l.remotePort());
    }
  }

  /** Whether the app listens on {@code localPort} with the target's traffic subscribed. */
  public boolean isSubscribed(int localPort) {
    Listening l = listening.get(localPort);
    return l != null && l.subscribable();
  }

  /** Every port seen bound so far, by local port. */
  public Map<Integer, Listening> listening() {
    return new TreeMap<>(listening);
  }

  /** Just the port numbers of {@link #listening()}. */
  public Set<Integer> listeningPorts() {
    return new TreeMap<>(listening).keySet();
  }

  private static String addressOf(InetSocketAddress inet) {
    if (inet == null) {
      return "*";
    }
    InetAddress a = inet.getAddress();
    return a == null ? inet.getHostString() : a.getHostAddress();
  }
}
