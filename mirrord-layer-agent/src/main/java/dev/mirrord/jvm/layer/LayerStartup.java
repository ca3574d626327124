package dev.mirrord.jvm.layer;

import dev.mirrord.jvm.layer.bootstrap.BypassGuard;
import dev.mirrord.jvm.layer.bootstrap.LayerBridge;
import dev.mirrord.jvm.layer.dns.DnsOps;
import dev.mirrord.jvm.layer.file.FileOps;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.layer.socket.InetAddresses;
import dev.mirrord.jvm.layer.socket.ListenOps;
import dev.mirrord.jvm.layer.socket.OutgoingOps;
import dev.mirrord.jvm.layer.socket.PeerOps;
import dev.mirrord.jvm.protocol.Tcp;
import java.net.InetSocketAddress;
import dev.mirrord.jvm.layer.transport.ConnectionStart;
import dev.mirrord.jvm.layer.transport.HandshakeException;
import dev.mirrord.jvm.layer.transport.ProxyConnection;
import dev.mirrord.jvm.layer.transport.ProxyConnector;
import dev.mirrord.jvm.layer.transport.ProxyDnsResolver;
import dev.mirrord.jvm.layer.transport.ProxyPortSubscriber;
import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The layer's start, run synchronously by {@link LayerAgent} once the bootstrap package is visible
 * from the boot class loader:
 *
 * <ol>
 *   <li>open the layer log (the session file was read by {@link LayerAgent});
 *   <li>install the advice ({@link LayerInstaller}; from the hook cache when it can answer);
 *   <li>start the session with the CLI ({@link ConnectionStart#open}: connect, handshake and
 *       {@code TargetInfo} on a start connection) — at most the session file's {@code handshake.timeout.ms}, inside
 *       {@code BypassGuard} (on failure the advice is taken out again);
 *   <li>publish {@code mirrord.layer.connected}, {@code mirrord.target.*}, {@code
 *       mirrord.session.id} as system properties;
 *   <li>bring the main connection up beside the app's start ({@link ConnectionStart#connect});
 *   <li>register the hooks with {@code LayerBridge} (a hook that needs the main connection before
 *       it is up waits for it).
 * </ol>
 *
 * Any failure ends in one stderr line: with {@code on.disconnect=exit} a failed session with the CLI
 * ends the JVM (exit code 75, before {@code main}), see {@link DisconnectPolicy}; anything else (a
 * bad session file, a layer bug) leaves an unhooked, running app.
 */
final class LayerStartup {

  /** How long the JVM's exit waits for the layer's thread to end (it waits 300 ms for it otherwise). */
  static final long EXIT_CLOSE_MILLIS = 200;

  private LayerStartup() {}

  static void start(
      LayerConfig config, Instrumentation inst, boolean bootstrapOk, String bootstrap, long premainNanos) {
    LayerLog log;
    try {
      log = LayerLog.open(config.logFile(), config.logLevel());
    } catch (IOException | RuntimeException e) {
      LayerAgent.reportDisabled("cannot open log file " + config.logFile() + ": " + e, null);
      return;
    }
    try {
      run(config, inst, bootstrapOk, bootstrap, log, premainNanos);
    } catch (Throwable t) {
      log.error("layer failed to start", t);
      LayerAgent.reportDisabled("unexpected " + t, log.file());
    }
  }

  @SuppressWarnings("try") // the guard scope is entered for its effect
  private static void run(
      LayerConfig config,
      Instrumentation inst,
      boolean bootstrapOk,
      String bootstrap,
      LayerLog log,
      long premainNanos) {
    long t0 = System.nanoTime();
    log.info(
        "mirrord layer "
            + version()
            + " starting: java "
            + System.getProperty("java.version")
            + ", "
            + config);
    if (!bootstrapOk) {
      fail(log, "cannot make the layer's bootstrap classes boot-visible: " + bootstrap);
      return;
    }
    log.debug("bootstrap classes: " + bootstrap);
    // The hooks go in before the layer opens its own connection: the JDK classes that connection loads (Socket,
    // SocketChannelImpl, …) are then hooked as they load, from their class files, which the hook cache knows from
    // the last run, instead of being retransformed afterwards. Until the hooks are registered below, LayerBridge
    // lets every call through.
    HookTransformer transformer;
    try {
      transformer = LayerInstaller.install(inst, LayerInstaller.hooks(), config.hookCacheDir(), log);
    } catch (RuntimeException | LinkageError e) {
      log.error("cannot install the layer's hooks", e);
      fail(log, "cannot install the layer's hooks: " + e);
      return;
    }
    ConnectionStart start;
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      // The socket classes the connection loads get hooked as they load (Byte Buddy's work when the cache cannot
      // answer): done here, before the clock of the handshake's time bound starts.
      try (java.nio.channels.SocketChannel warm = java.nio.channels.SocketChannel.open()) {
        warm.socket();
      } catch (IOException | RuntimeException e) {
        log.debug("socket warm-up: " + e);
      }
      Session.Hello hello = new Session.Hello(ProtocolVersion.CURRENT, config.token(), peerName());
      // the app's start waits for it: connect, Hello (which waits for the agent if the CLI started this JVM while
      // the agent starts) and TargetInfo, at most the session file's handshake.timeout.ms
      start =
          ConnectionStart.open(
              config.proxyHost(), config.proxyPort(), hello, Duration.ofMillis(config.handshakeTimeoutMillis()), log);
    } catch (HandshakeException e) {
      LayerInstaller.uninstall(inst, transformer, log);
      log.error("layer disabled: " + e.getMessage());
      if (DisconnectPolicy.of(config.onDisconnect(), log).startFailed(e.getMessage())) {
        awaitExit();
      }
      LayerAgent.reportDisabled(e.getMessage(), log.file());
      return;
    }
    Target.TargetInfo target = start.target();
    log.info(
        "target: pid="
            + target.pid()
            + " netns="
            + target.netnsInode()
            + " hostname="
            + target.hostname()
            + " addresses="
            + target.addresses());

    // No lambda or method reference from here to the end of premain, nor in what the main connection's start
    // runs: linking one costs ~0.5 ms of the app's cold JVM (JDK 25) each, ~10 ms of premain for the ~20 there were
    // (LayerAgentIT#theBootLoaderHasTheWholeLayer… checks). A ConnectionStart is the Supplier of the main connection.
    ListenOps listenOps = new ListenOps(config, log, new ProxyPortSubscriber(start, start, log));
    PeerOps peerOps =
        new PeerOps(
            config.relaySource(),
            new java.util.function.IntPredicate() {
              @Override
              public boolean test(int localPort) {
                return listenOps.isSubscribed(localPort);
              }
            },
            new PeerOps.InboundDrain() {
              @Override
              public void await(long millis) {
                ProxyConnection c = start.now(); // before it is up, nothing can have been relayed
                if (c != null) {
                  c.drainInbound(millis);
                }
              }
            },
            log);
    DisconnectPolicy onDisconnect = DisconnectPolicy.of(config.onDisconnect(), log);
    DnsOps dnsOps =
        new DnsOps(config.dnsRemote(), ownHostname(log), new ProxyDnsResolver(start), log);
    OutgoingOps outgoingOps =
        new OutgoingOps(
            config.outgoingTcp(),
            config.outgoingUdp(),
            config.dnsRemote(),
            config.outgoingFilter(),
            ListenOps.jdwpPorts(),
            new ProxyConnector(start),
            peerOps,
            log);
    FileOps fileOps = FileOps.forConfig(config.resolverFiles(), log);
    System.setProperty("mirrord.target.pid", Integer.toString(target.pid()));
    System.setProperty("mirrord.target.netns", Long.toString(target.netnsInode()));
    System.setProperty("mirrord.target.hostname", target.hostname());
    if (!config.sessionId().isEmpty()) {
      System.setProperty("mirrord.session.id", config.sessionId());
    }
    // The CLI accepted this layer: the session is up, although its main connection may still be coming up.
    System.setProperty("mirrord.layer.connected", "true");
    // The main connection comes up while the app starts (see ConnectionStart); a hook that needs it first waits.
    start.connect(
        new Consumer<ProxyConnection>() {
          @Override
          public void accept(ProxyConnection connection) {
            connection.onMessage(
                new Consumer<AgentMessage>() {
                  @Override
                  public void accept(AgentMessage m) {
                    if (m instanceof Session.AgentLog
                        && ((Session.AgentLog) m).level() == Session.AgentLog.Level.ERROR) {
                      onDisconnect.cliError(((Session.AgentLog) m).message());
                    } else if (m instanceof Tcp.IncomingPeer) {
                      Tcp.IncomingPeer p = (Tcp.IncomingPeer) m;
                      peerOps.record(
                          p.localPort(),
                          p.sourcePort() == 0
                              ? null
                              : new InetSocketAddress(InetAddresses.forLiteral(p.sourceAddress()), p.sourcePort()));
                    }
                  }
                });
            connection
                .closeFuture()
                .thenRun(
                    new Runnable() {
                      @Override
                      public void run() {
                        System.setProperty("mirrord.layer.connected", "false");
                        if (connection.lost()) {
                          onDisconnect.connectionLost(connection.peer());
                        }
                      }
                    });
          }
        },
        new Consumer<HandshakeException>() {
          @Override
          public void accept(HandshakeException failure) {
            System.setProperty("mirrord.layer.connected", "false");
            onDisconnect.connectionLost(start.peer());
          }
        });
    LayerBridge.register(new RoutingHooks(listenOps, peerOps, dnsOps, outgoingOps, fileOps, log));
    LayerInstaller.finish(transformer, log);

    // Once the app's shutdown hooks have run (they may still need the connection): without it, the
    // JVM's exit waited 300 ms for the event-loop thread idling in epoll_wait.
    AfterAppShutdownHooks.register(inst, new Runnable() {
      @Override
      public void run() {
        long t = System.nanoTime();
        boolean ended = start.closeAndAwait(EXIT_CLOSE_MILLIS);
        log.info("closed the connection after the app's shutdown hooks in " + (System.nanoTime() - t) / 1_000_000
            + " ms" + (ended ? "" : "; the layer's thread had not ended yet"));
      }
    }, log);
    // "in": from this method's start, as bench/startup.sh has always read it; "since premain" adds the session file
    // and the bootstrap classes (BootstrapInjector) before it.
    long now = System.nanoTime();
    log.info("layer ready in " + (now - t0) / 1_000_000 + " ms (" + (now - premainNanos) / 1_000_000
        + " ms since premain)");
  }

  /**
   * This machine's host name, which stays local (so {@code InetAddress.getLocalHost()} keeps
   * working): Linux's {@code /proc/sys/kernel/hostname}, else {@code HOSTNAME}/{@code
   * COMPUTERNAME}, else the JDK's (a local lookup, inside the guard, before any hook exists).
   */
  @SuppressWarnings("try") // the guard scope is entered for its effect
  static String ownHostname(LayerLog log) {
    try {
      java.nio.file.Path proc = java.nio.file.Path.of("/proc/sys/kernel/hostname");
      if (java.nio.file.Files.isReadable(proc)) {
        String name = java.nio.file.Files.readString(proc).trim();
        if (!name.isEmpty()) {
          return name;
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read /proc/sys/kernel/hostname: " + e);
    }
    for (String env : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
      String name = System.getenv(env);
      if (name != null && !name.isBlank()) {
        return name.trim();
      }
    }
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      log.debug("own host name unknown: " + e);
      return null;
    }
  }

  /**
   * Holds the premain thread while {@link DisconnectPolicy} ends the JVM, so that the app's {@code
   * main} never starts unhooked.
   */
  private static void awaitExit() {
    long deadline = System.nanoTime() + 2 * DisconnectPolicy.HOOKS_BOUND_MILLIS * 1_000_000;
    while (System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void fail(LayerLog log, String reason) {
    log.error("layer disabled: " + reason);
    LayerAgent.reportDisabled(reason, log.file());
  }

  /** {@code layer pid=<pid> <first word of sun.java.command>}, for the CLI's logs. */
  static String peerName() {
    String command = System.getProperty("sun.java.command", "").trim();
    int space = command.indexOf(' ');
    String first = space < 0 ? command : command.substring(0, space);
    String pid = "layer pid=" + dev.mirrord.jvm.layer.internal.Pid.current();
    return first.isEmpty() ? pid : pid + " " + first;
  }

  static String version() {
    return LayerBuild.VERSION;
  }
}
