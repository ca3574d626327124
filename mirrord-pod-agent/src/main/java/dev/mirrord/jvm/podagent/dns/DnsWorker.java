package dev.mirrord.jvm.podagent.dns;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.hosts.HostsFileParser;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;

/**
 * The agent's one resolver, shared by every client: resolves a name as the target would, with
 * dnsjava's {@link LookupSession} — {@code /etc/hosts} first, then the name servers of the
 * target's {@code /etc/resolv.conf} with its search list and {@code ndots}, each server tried
 * {@code attempts} times for {@code timeout}. Both files are read through {@code /proc/<pid>/root}
 * on every lookup (they are tiny, and a pod may rewrite them); the answers are not cached here (the
 * app's JVM caches them).
 *
 * <p>Queries leave from the agent's network namespace, which is the target's (the agent runs under
 * {@code nsenter --net}). File reads run on this worker's own daemon threads, never on an event
 * loop; the network wait is dnsjava's non-blocking I/O. A name that does not exist (NXDOMAIN) or has
 * no address of the asked family is {@code NotFound(host)}; anything else that fails is {@code
 * RemoteIo}.
 */
public final class DnsWorker implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DnsWorker.class);

  /** An upper bound for one lookup, whatever resolv.conf says (its caps give at most ~15 min). */
  static final Duration MAX_LOOKUP = Duration.ofSeconds(60);

  private final Path resolvConf;
  private final Path hosts;
  private final int serverPort;
  private final ExecutorService fileReads;

  /** Resolves for {@code target}, with its files under {@code /proc/<pid>/root/etc}. */
  public DnsWorker(TargetProcess target) {
    this(target.resolvConf(), target.hosts(), 53);
  }

  /**
   * Resolves with these files; {@code serverPort} replaces port 53 of every name server (tests run
   * a server on an ephemeral loopback port).
   */
  DnsWorker(Path resolvConf, Path hosts, int serverPort) {
    this.resolvConf = resolvConf;
    this.hosts = hosts;
    this.serverPort = serverPort;
    this.fileReads =
        Executors.newFixedThreadPool(
            2, Thread.ofPlatform().daemon().name("mirrord-dns-", 0).factory());
  }

  /**
   * Resolves {@code host} for {@code family} ({@link Dns#ANY}, {@link Dns#IPV4}, {@link Dns#IPV6}).
   * Never fails: errors are in the result. Completes on a worker or dnsjava thread.
   */
  public CompletableFuture<RemoteResult<List<String>>> lookup(String host, int family) {
    CompletableFuture<RemoteResult<List<String>>> result;
    try {
      result =
          CompletableFuture.supplyAsync(() -> session(host), fileReads)
              .thenCompose(s -> resolve(s, host, family));
    } catch (RuntimeException e) { // closed
      return CompletableFuture.completedFuture(
          RemoteResult.err(new ResponseError.RemoteIo(0, "the agent's resolver is shut down")));
    }
    return result
        .orTimeout(MAX_LOOKUP.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(e -> RemoteResult.err(ioError(host, unwrap(e))));
  }

  /**
   * The first name server of the target's {@code resolv.conf} (blocking file read: call off the
   * event loop), as libc picks it; the local host's port 53 when there is none.
   */
  public InetSocketAddress primaryNameServer() throws IOException {
    List<InetSocketAddress> servers;
    try {
      servers = ResolvConf.parse(Files.readAllBytes(resolvConf)).servers();
    } catch (NoSuchFileException e) {
      servers = List.of();
    }
    InetAddress address =
        servers.isEmpty() ? InetAddress.getLoopbackAddress() : servers.get(0).getAddress();
    return new InetSocketAddress(address, serverPort);
  }

  /** The session of the last lookup, reused while both files stay the same (see {@link #session}). */
  private record CachedSession(byte[] resolvConf, Object hostsStamp, LookupSession session) {}

  private volatile CachedSession cached;

  /**
   * A session for the target's current files. dnsjava's resolvers and sessions are meant to live
   * long (a fresh one per lookup costs milliseconds); so the last one is reused as long as
   * resolv.conf has the same bytes and /etc/hosts the same size and modification time. Its answers
   * are not cached ({@code clearCaches}), and its callbacks run on this worker's threads, not on the
   * common fork-join pool (one thread on a two-core pod).
   */
  private LookupSession session(String host) {
    byte[] confBytes;
    try {
      confBytes = Files.readAllBytes(resolvConf);
    } catch (NoSuchFileException e) {
      confBytes = null;
    } catch (IOException e) {
      throw new CompletionException(new IOException("cannot read " + resolvConf + ": " + e, e));
    }
    Object hostsStamp = hostsStamp();
    CachedSession c = cached;
    if (c != null && java.util.Arrays.equals(c.resolvConf(), confBytes)
        && java.util.Objects.equals(c.hostsStamp(), hostsStamp)) {
      return c.session();
    }
    LookupSession fresh = newSession(host, confBytes);
    cached = new CachedSession(confBytes, hostsStamp, fresh);
    return fresh;
  }

  private Object hostsStamp() {
    try {
      java.nio.file.attribute.BasicFileAttributes a =
          Files.readAttributes(hosts, java.nio.file.attribute.BasicFileAttributes.class);
      return List.of(a.size(), a.lastModifiedTime().toMillis(), String.valueOf(a.fileKey()));
    } catch (IOException e) {
      return "missing";
    }
  }

  private LookupSession newSession(String host, byte[] confBytes) {
    ResolvConf conf;
    try {
      if (confBytes == null) {
        throw new NoSuchFileException(resolvConf.toString());
      }
      conf = ResolvConf.parse(confBytes);
    } catch (NoSuchFileException e) {
      // As libc: no resolv.conf means the local name server, no search list.
      conf = new ResolvConf(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53)),
          List.of(), 1, Duration.ofSeconds(ResolvConf.DEFAULT_TIMEOUT_SECONDS),
          ResolvConf.DEFAULT_ATTEMPTS);
    } catch (IOException e) {
      throw new CompletionException(new IOException("cannot read " + resolvConf + ": " + e, e));
    }
    List<InetSocketAddress> addresses = conf.servers();
    if (addresses.isEmpty()) {
      // As libc: no nameserver line means the name server on the local host.
      addresses = List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53));
    }
    List<Resolver> servers = new ArrayList<>();
    for (InetSocketAddress s : addresses) {
      SimpleResolver r = new SimpleResolver(new InetSocketAddress(s.getAddress(), serverPort));
      r.setTimeout(conf.timeout());
      servers.add(r);
    }
    ExtendedResolver resolver = new ExtendedResolver(servers);
    resolver.setRetries(conf.attempts());
    resolver.setTimeout(conf.timeout().multipliedBy((long) conf.attempts() * servers.size()));
    logger.debug("resolving {} with {}", host, conf);
    return LookupSession.builder()
        .resolver(resolver)
        .searchPath(conf.searchPath())
        .ndots(conf.ndots())
        .clearCaches()
        .hostsFileParser(new HostsFileParser(hosts, false))
        .executor(fileReads)
        .build();
  }

  private static CompletableFuture<RemoteResult<List<String>>> resolve(
      LookupSession session, String host, int family) {
    Name name;
    try {
      name = Name.fromString(host);
    } catch (TextParseException e) {
      return CompletableFuture.completedFuture(
          RemoteResult.err(new ResponseError.NotFound(host)));
    }
    CompletableFuture<Answer> v4 =
        family == Dns.IPV6 ? CompletableFuture.completedFuture(Answer.NONE) : query(session, name, Type.A);
    CompletableFuture<Answer> v6 =
        family == Dns.IPV4 ? CompletableFuture.completedFuture(Answer.NONE) : query(session, name, Type.AAAA);
    return v4.thenCombine(v6, (a, b) -> combine(host, a, b));
  }

  /** One record type's outcome: addresses, "no such name/data", or a failure. */
  private record Answer(List<String> addresses, Throwable failure) {
    static final Answer NONE = new Answer(List.of(), null);
  }

  private static CompletableFuture<Answer> query(LookupSession session, Name name, int type) {
    return session
        .lookupAsync(name, type)
        .toCompletableFuture()
        .handle(
            (LookupResult r, Throwable e) -> {
              if (e == null) {
                return new Answer(addresses(r), null);
              }
              Throwable cause = unwrap(e);
              if (cause instanceof NoSuchDomainException || cause instanceof NoSuchRRSetException) {
                return Answer.NONE;
              }
              return new Answer(List.of(), cause);
            });
  }

  private static RemoteResult<List<String>> combine(String host, Answer a, Answer b) {
    Set<String> all = new LinkedHashSet<>(a.addresses());
    all.addAll(b.addresses());
    if (!all.isEmpty()) {
      return RemoteResult.ok(List.copyOf(all));
    }
    Throwable failure = a.failure() != null ? a.failure() : b.failure();
    if (failure == null) {
      return RemoteResult.err(new ResponseError.NotFound(host));
    }
    return RemoteResult.err(ioError(host, failure));
  }

  private static List<String> addresses(LookupResult r) {
    List<String> out = new ArrayList<>();
    for (Record rec : r.getRecords()) {
      if (rec instanceof ARecord a) {
        out.add(a.getAddress().getHostAddress());
      } else if (rec instanceof AAAARecord aaaa) {
        out.add(aaaa.getAddress().getHostAddress());
      }
    }
    return out;
  }

  private static ResponseError ioError(String host, Throwable cause) {
    String what =
        cause instanceof TimeoutException || cause instanceof java.net.SocketTimeoutException
            ? "timed out"
            : String.valueOf(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
    logger.debug("lookup of {} failed", host, cause);
    return new ResponseError.RemoteIo(0, "cannot resolve " + host + " in the target: " + what);
  }

  private static Throwable unwrap(Throwable e) {
    Throwable t = e;
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public void close() {
    fileReads.shutdownNow();
  }
}
