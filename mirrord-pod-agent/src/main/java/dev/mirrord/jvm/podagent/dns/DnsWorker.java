package dev.mirrord.jvm.podagent.dns;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverException;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's resolver, shared by every client: resolves a name as the target would — its {@code
 * /etc/hosts} first, then the name servers of its {@code /etc/resolv.conf} in file order, with its
 * search list and {@code ndots}, each query given {@code timeout}, the whole lookup tried {@code
 * attempts} times when the servers fail or stay silent. The answers are not cached here (the app's
 * JVM caches them).
 *
 * <p>Why it is shaped like this: on the machines we run on, every hand-off between threads costs
 * about 100 µs, more than the DNS round trip to the cluster's name server. So a lookup runs on the
 * event loop of the client connection that asked: Netty's {@link DnsNameResolver} (one per loop and
 * address family) sends the UDP queries from that loop, the answers arrive on it, and the reply is
 * written from it — no other thread is woken. The files are not read per lookup either: a
 * background thread checks them every {@link #FILE_CHECK_PERIOD} and publishes a new {@link
 * TargetFiles} when resolv.conf's bytes or /etc/hosts' size/mtime changed; a loop rebuilds its
 * resolvers at its next lookup after that.
 *
 * <p>Queries leave from the agent's network namespace, which is the target's (the agent runs under
 * {@code nsenter --net}). A name that does not exist (NXDOMAIN) or has no address of the asked
 * family is {@code NotFound(host)}; a server failure (SERVFAIL), a timeout or a socket error is
 * {@code RemoteIo}. Where Netty's resolver differs from glibc: other rcodes of the last server
 * (REFUSED, NOTIMP) are not reported and end as {@code NotFound}; a SERVFAIL for one search domain
 * moves on to the next one (glibc reports "try again" at the end); {@code ndots:0} skips the search
 * list (glibc tries it after the name as given); a non-authoritative NXDOMAIN or an empty answer is
 * asked of the next server too. Answers of the A and AAAA queries of one name are combined, IPv4
 * first for {@code ANY}.
 */
public final class DnsWorker implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DnsWorker.class);

  /** How often the target's resolv.conf and /etc/hosts are checked for changes. */
  static final Duration FILE_CHECK_PERIOD = Duration.ofSeconds(1);

  private final Path resolvConf;
  private final Path hosts;
  private final UnaryOperator<InetSocketAddress> serverAddress;

  /** fileChecks --TargetFiles--> every loop's {@link LoopResolvers}: the files as last read. */
  private volatile TargetFiles files;

  /** Reads the two files every {@link #FILE_CHECK_PERIOD}, off every event loop. */
  private final ScheduledExecutorService fileChecks;

  /** Each loop's resolvers, touched only on that loop (the map itself is shared). */
  private final Map<EventLoop, LoopResolvers> resolvers = new ConcurrentHashMap<>();

  /** For callers whose loop cannot carry a datagram channel (tests with an embedded channel). */
  private volatile EventLoopGroup ownLoop;

  private volatile boolean closed;

  /** Resolves for {@code target}, with its files under {@code /proc/<pid>/root/etc}. */
  public DnsWorker(TargetProcess target) {
    this(target.resolvConf(), target.hosts(), 53);
  }

  /**
   * Resolves with these files; {@code serverPort} replaces port 53 of every name server (tests run
   * a server on an ephemeral loopback port). Reads both files once, here (blocking).
   */
  DnsWorker(Path resolvConf, Path hosts, int serverPort) {
    this(resolvConf, hosts, s -> new InetSocketAddress(s.getAddress(), serverPort));
  }

  /** Resolves with these files, sending to {@code serverAddress} of each name server (tests). */
  DnsWorker(Path resolvConf, Path hosts, UnaryOperator<InetSocketAddress> serverAddress) {
    this.resolvConf = resolvConf;
    this.hosts = hosts;
    this.serverAddress = serverAddress;
    this.files = TargetFiles.read(resolvConf, hosts, null);
    logger.debug("target's resolver: {}", files);
    this.fileChecks =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("mirrord-dns-files").factory());
    long period = FILE_CHECK_PERIOD.toMillis();
    fileChecks.scheduleWithFixedDelay(this::checkFiles, period, period, TimeUnit.MILLISECONDS);
  }

  private void checkFiles() {
    try {
      TargetFiles previous = files;
      TargetFiles now = TargetFiles.read(resolvConf, hosts, previous);
      if (now != previous) {
        logger.debug("target's resolv.conf or hosts changed: {}", now);
        files = now;
      }
    } catch (RuntimeException e) {
      // Never let the periodic check die: the next one tries again.
      logger.debug("checking the target's resolver files failed", e);
    }
  }

  /** Resolves on a loop of the worker's own (tests and callers without an event loop). */
  public CompletableFuture<RemoteResult<List<String>>> lookup(String host, int family) {
    return lookup(host, family, null);
  }

  /**
   * Resolves {@code host} for {@code family} ({@link Dns#ANY}, {@link Dns#IPV4}, {@link Dns#IPV6}).
   * Never fails: errors are in the result. Call it from {@code loop} (the asking client's event
   * loop): the lookup then runs and completes on that thread, without waking any other; from
   * another thread it is handed to {@code loop}. A name in the target's hosts file completes at
   * once, on the calling thread.
   *
   * @param loop the loop to send the queries from; {@code null}, or one that cannot carry a NIO
   *     datagram channel: a loop of the worker's own
   */
  public CompletableFuture<RemoteResult<List<String>>> lookup(
      String host, int family, EventLoop loop) {
    if (closed) {
      return CompletableFuture.completedFuture(shutDown());
    }
    TargetFiles current = files;
    List<InetAddress> fromHosts =
        current.hostsEntries(host, family != Dns.IPV6, family != Dns.IPV4);
    if (!fromHosts.isEmpty()) {
      return CompletableFuture.completedFuture(RemoteResult.ok(literals(fromHosts)));
    }
    CompletableFuture<RemoteResult<List<String>>> result = new CompletableFuture<>();
    EventLoop on = loop instanceof IoEventLoop ? loop : ownLoop();
    if (on.inEventLoop()) {
      resolve(on, host, family, result);
    } else {
      try {
        on.execute(() -> resolve(on, host, family, result));
      } catch (RejectedExecutionException e) {
        result.complete(shutDown());
      }
    }
    return result;
  }

  /**
   * The first name server of the target's {@code resolv.conf}, as libc picks it (the local host's
   * port 53 when there is none), from the files as last read: does not block.
   *
   * @throws IOException resolv.conf could not be read or parsed at the last check
   */
  public InetSocketAddress primaryNameServer() throws IOException {
    return nameServerFor(null);
  }

  /**
   * Where a {@code DNS_UDP} flow the app opened towards {@code requested} goes: that server itself
   * when it is one of the target's resolv.conf (the app read the target's files and fails over
   * through them), else the first one (the app asked a resolver of its own machine).
   */
  public InetSocketAddress nameServerFor(InetSocketAddress requested) throws IOException {
    TargetFiles current = files;
    if (current.confError() != null) {
      throw new IOException(current.confError());
    }
    for (InetSocketAddress s : current.conf().servers()) {
      if (s.equals(requested)) {
        return serverAddress.apply(s);
      }
    }
    return serverAddress.apply(current.conf().servers().get(0));
  }

  /** On {@code loop}: the resolver of the current files, then the first attempt. */
  private void resolve(
      EventLoop loop, String host, int family, CompletableFuture<RemoteResult<List<String>>> out) {
    if (closed) {
      out.complete(shutDown());
      return;
    }
    TargetFiles current = files;
    if (current.confError() != null) {
      out.complete(ioError(host, current.confError()));
      return;
    }
    LoopResolvers r = resolvers.get(loop);
    if (r == null || r.files != current) {
      if (r != null) {
        r.retire();
      }
      r = new LoopResolvers(loop, current);
      resolvers.put(loop, r);
    }
    attempt(r, host, family, 1, out);
  }

  /**
   * One pass over the search list and the name servers; another one (up to resolv.conf's {@code
   * attempts}) only if the servers failed, as libc's retry loop.
   */
  private void attempt(
      LoopResolvers r,
      String host,
      int family,
      int attempt,
      CompletableFuture<RemoteResult<List<String>>> out) {
    DnsNameResolver resolver;
    try {
      resolver = r.forFamily(family);
    } catch (RuntimeException e) {
      out.complete(ioError(host, "cannot start the resolver: " + e));
      return;
    }
    r.inFlight++;
    Future<List<InetAddress>> answer = resolver.resolveAll(host);
    answer.addListener(
            done -> {
              r.done();
              if (answer.isSuccess()) {
                out.complete(RemoteResult.ok(literals(answer.getNow())));
                return;
              }
              RemoteResult<List<String>> failed = classify(host, answer.cause());
              if (failed.isOk() || !(error(failed) instanceof ResponseError.RemoteIo)
                  || attempt >= r.files.conf().attempts()
                  || closed) {
                out.complete(failed);
                return;
              }
              logger.debug("lookup of {} failed (attempt {}), trying again", host, attempt);
              attempt(r, host, family, attempt + 1, out);
            });
  }

  /** NXDOMAIN / no data → NotFound; a server failure, a timeout or a socket error → RemoteIo. */
  static RemoteResult<List<String>> classify(String host, Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof DnsNameResolverTimeoutException) {
        return ioError(host, "timed out");
      }
      if (t instanceof DnsErrorCauseException e && e.getCode() == DnsResponseCode.SERVFAIL) {
        return ioError(host, "server failure (SERVFAIL)");
      }
      if (t instanceof DnsNameResolverException
          || (t instanceof IOException && !(t instanceof UnknownHostException))) {
        return ioError(host, t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
      }
    }
    logger.debug("{} not found in the target", host, cause);
    return RemoteResult.err(new ResponseError.NotFound(host));
  }

  private static ResponseError error(RemoteResult<List<String>> r) {
    return ((RemoteResult.Err<List<String>>) r).error();
  }

  private static RemoteResult<List<String>> ioError(String host, String what) {
    return RemoteResult.err(
        new ResponseError.RemoteIo(0, "cannot resolve " + host + " in the target: " + what));
  }

  private static RemoteResult<List<String>> shutDown() {
    return RemoteResult.err(new ResponseError.RemoteIo(0, "the agent's resolver is shut down"));
  }

  /** Address literals, each once, in answer order. */
  private static List<String> literals(List<InetAddress> addresses) {
    Set<String> out = new LinkedHashSet<>();
    for (InetAddress a : addresses) {
      out.add(a.getHostAddress());
    }
    return List.copyOf(out);
  }

  private EventLoop ownLoop() {
    EventLoopGroup g = ownLoop;
    if (g == null) {
      synchronized (this) {
        g = ownLoop;
        if (g == null) {
          g =
              Transport.preferred()
                  .newGroup(1, Thread.ofPlatform().daemon().name("mirrord-dns-loop").factory());
          ownLoop = g;
        }
      }
    }
    return g.next();
  }

  /**
   * One loop's resolvers for one {@link TargetFiles}, built at the first lookup of each family.
   * Confined to that loop. A retired instance (the files changed) closes its resolvers once its last
   * lookup is answered.
   */
  private final class LoopResolvers {
    private final EventLoop loop;
    private final TargetFiles files;
    private final DnsNameResolver[] byFamily = new DnsNameResolver[3];
    private int inFlight;
    private boolean retired;

    LoopResolvers(EventLoop loop, TargetFiles files) {
      this.loop = loop;
      this.files = files;
    }

    DnsNameResolver forFamily(int family) {
      int i = family == Dns.IPV4 ? 1 : family == Dns.IPV6 ? 2 : 0;
      if (byFamily[i] == null) {
        byFamily[i] = build(i == 1 ? ResolvedAddressTypes.IPV4_ONLY
            : i == 2 ? ResolvedAddressTypes.IPV6_ONLY : ResolvedAddressTypes.IPV4_PREFERRED);
      }
      return byFamily[i];
    }

    private DnsNameResolver build(ResolvedAddressTypes types) {
      ResolvConf conf = files.conf();
      List<InetSocketAddress> servers = new ArrayList<>();
      for (InetSocketAddress s : conf.servers()) {
        servers.add(serverAddress.apply(s));
      }
      Transport transport = Transport.of(loop);
      return new DnsNameResolverBuilder(loop)
          .datagramChannelType(transport.datagramChannel())
          // A truncated answer is asked again over TCP, as libc does.
          .socketChannelType(transport.socketChannel())
          .nameServerProvider(new SequentialDnsServerAddressStreamProvider(servers))
          .searchDomains(conf.searchPath())
          .ndots(conf.ndots())
          .queryTimeoutMillis(conf.timeout().toMillis())
          .maxQueriesPerResolve(Math.max(16, 4 * servers.size()))
          .resolvedAddressTypes(types)
          .recursionDesired(true)
          // The app's JVM caches; the agent answers what the target's servers say now.
          .resolveCache(NoopDnsCache.INSTANCE)
          .cnameCache(NoopDnsCnameCache.INSTANCE)
          .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
          // Hosts entries are answered before the resolver is asked (TargetFiles); Netty's
          // default would read the agent's own /etc/hosts, not the target's.
          .hostsFileEntriesResolver((name, t) -> null)
          .traceEnabled(false)
          .build();
    }

    void done() {
      inFlight--;
      closeIfIdle();
    }

    void retire() {
      retired = true;
      closeIfIdle();
    }

    private void closeIfIdle() {
      if (retired && inFlight == 0) {
        for (int i = 0; i < byFamily.length; i++) {
          if (byFamily[i] != null) {
            byFamily[i].close();
            byFamily[i] = null;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    fileChecks.shutdownNow();
    for (LoopResolvers r : resolvers.values()) {
      try {
        r.loop.execute(r::retire);
      } catch (RejectedExecutionException e) {
        // The loop is gone, and its channels with it.
      }
    }
    resolvers.clear();
    EventLoopGroup g = ownLoop;
    if (g != null) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
