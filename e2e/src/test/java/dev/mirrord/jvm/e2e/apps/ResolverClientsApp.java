package dev.mirrord.jvm.e2e.apps;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.channel.EventLoopGroup;
import io.netty.resolver.AddressResolver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.directory.Attribute;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import reactor.netty.http.client.HttpClient;

/**
 * {@code ResolverClientsApp [CHECK...]}: clients whose resolver reads {@code /etc/resolv.conf} and {@code /etc/hosts}
 * itself instead of asking the JDK (issue 13), by the names a pod uses. One line per check, as {@link OutgoingApp}
 * prints them ({@code <check> ok <value>} / {@code <check> failed <root cause>: <message> (<chain>)}):
 *
 * <pre>
 *   lettuce ok hello from lettuce via DnsAddressResolverGroup      Lettuce SET/GET on redis://redis:6379
 *   reactor ok hello from svc: GET /resolver via DnsAddressResolverGroup
 *                                                                   Reactor Netty HttpClient GET http://svc:8080/resolver
 *   vertx ok hello from svc: GET /resolver via DnsAddressResolverProvider$1
 *                                                                   Vert.x 5 HttpClient GET http://svc:8080/resolver
 *   truncated ok 300 addresses                                      Lettuce's resolver: many (300 A records; the UDP
 *                                                                   answer is truncated, asked again over TCP)
 *   jndi ok 198.18.0.20 from dns://198.18.0.53                      JNDI dns: provider, A of svc.default.svc.cluster.local
 *   jndisrv ok 0 100 6379 redis.default.svc.cluster.local.          JNDI dns: SRV _redis._tcp.redis.default.svc.cluster.local
 *   jnditcp ok 300 addresses                                        JNDI dns: A of many.default.svc.cluster.local (TCP)
 * </pre>
 *
 * "via …" names the resolver group the client really uses: Netty's {@code DnsAddressResolverGroup}, never the JDK's
 * ({@code DefaultAddressResolverGroup}). The JNDI DNS provider applies no search list (in a pod neither): its names are
 * full, and what comes from resolv.conf is the name server (the provider URL it reports). Every check is bounded by
 * {@value #TIMEOUT_MS} ms; exit code 0 only if every selected check passed, else 1.
 */
public final class ResolverClientsApp {
  public static final List<String> CHECKS =
      List.of("lettuce", "reactor", "vertx", "truncated", "jndi", "jndisrv", "jnditcp");
  static final int TIMEOUT_MS = 5000;

  private ResolverClientsApp() {}

  public static void main(String[] args) {
    Map<String, OutgoingApp.Check> all = new LinkedHashMap<>();
    all.put("lettuce", ResolverClientsApp::lettuce);
    all.put("reactor", ResolverClientsApp::reactor);
    all.put("vertx", ResolverClientsApp::vertx);
    all.put("truncated", ResolverClientsApp::truncated);
    all.put("jndi", () -> jndi("svc.default.svc.cluster.local", "A"));
    all.put("jndisrv", () -> jndi("_redis._tcp.redis.default.svc.cluster.local", "SRV"));
    all.put("jnditcp", () -> jndi("many.default.svc.cluster.local", "A"));
    List<String> selected = args.length == 0 ? CHECKS : List.of(args);
    boolean allOk = true;
    for (String name : selected) {
      OutgoingApp.Check check = all.get(name);
      String line;
      try {
        line = name + " ok " + check.run();
      } catch (Throwable t) {
        allOk = false;
        line = name + " failed " + OutgoingApp.describe(t);
      }
      System.out.println(line);
      System.out.flush();
    }
    System.exit(allOk ? 0 : 1);
  }

  static String lettuce() throws Exception {
    ClientResources resources = DefaultClientResources.create();
    RedisClient client = RedisClient.create(resources, "redis://redis:6379?timeout=" + TIMEOUT_MS + "ms");
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      String key = "resolver-check-" + ProcessHandle.current().pid();
      c.sync().set(key, "hello from lettuce");
      String value = c.sync().get(key);
      c.sync().del(key);
      return value + " via " + resources.addressResolverGroup().getClass().getSimpleName();
    } finally {
      client.shutdown(0, 1, TimeUnit.SECONDS);
      resources.shutdown(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }
  }

  static String reactor() {
    HttpClient client = HttpClient.create().responseTimeout(Duration.ofMillis(TIMEOUT_MS));
    String body = client.get().uri("http://svc:8080/resolver").responseContent().aggregate().asString()
        .block(Duration.ofMillis(TIMEOUT_MS));
    return String.valueOf(body).strip() + " via "
        + client.configuration().defaultAddressResolverGroup().getClass().getSimpleName();
  }

  /**
   * Vert.x's HTTP client on its own resolver: Netty's {@code DnsNameResolver}, given resolv.conf's options and name
   * servers and /etc/hosts by Vert.x itself ({@code DnsAddressResolverProvider}); a JDK fallback fails the check.
   */
  static String vertx() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.netty.resolver.AddressResolverGroup<?> group =
          ((io.vertx.core.internal.VertxInternal) vertx).nameResolver().nettyAddressResolverGroup();
      if (group instanceof io.netty.resolver.DefaultAddressResolverGroup) {
        throw new IllegalStateException("Vert.x resolves with the JDK (" + group.getClass().getName() + ")");
      }
      // held until the answer is in: Vert.x 5 closes a client (its pool) once it is unreachable
      io.vertx.core.http.HttpClientAgent client = vertx.createHttpClient();
      String body = client.request(io.vertx.core.http.HttpMethod.GET, 8080, "svc", "/resolver")
          .compose(req -> req.send().compose(io.vertx.core.http.HttpClientResponse::body))
          .toCompletionStage().toCompletableFuture().get(TIMEOUT_MS, TimeUnit.MILLISECONDS).toString();
      client.close();
      String via = group.getClass().getName();
      return body.strip() + " via " + via.substring(via.lastIndexOf('.') + 1);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  /** Lettuce's default resolver group (Netty's, with TCP fallback), on a loop of Lettuce's own transport. */
  static String truncated() throws Exception {
    ClientResources resources = DefaultClientResources.create();
    try {
      EventLoopGroup group = resources.eventLoopGroupProvider().allocate(
          io.lettuce.core.resource.Transports.eventLoopGroupClass());
      try {
        AddressResolver<?> resolver = resources.addressResolverGroup().getResolver(group.next());
        List<?> all = resolver.resolveAll(InetSocketAddress.createUnresolved("many", 6379))
            .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return all.size() + " addresses";
      } finally {
        resources.eventLoopGroupProvider().release(group, 0, 1, TimeUnit.SECONDS);
      }
    } finally {
      resources.shutdown(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }
  }

  /** A JNDI DNS lookup with no provider URL: the name servers come from resolv.conf. */
  static String jndi(String name, String type) throws Exception {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
    env.put("com.sun.jndi.dns.timeout.initial", "2000");
    env.put("com.sun.jndi.dns.timeout.retries", "1");
    DirContext ctx = new InitialDirContext(env);
    try {
      Attribute attribute = ctx.getAttributes(name, new String[] {type}).get(type);
      if (attribute == null) {
        throw new IllegalStateException("no " + type + " record");
      }
      List<String> values = new ArrayList<>();
      for (NamingEnumeration<?> e = attribute.getAll(); e.hasMore(); ) {
        values.add(String.valueOf(e.next()));
      }
      if (values.size() > 1) {
        return values.size() + " addresses";
      }
      return values.get(0) + (type.equals("A") ? " from " + ctx.getEnvironment().get(Context.PROVIDER_URL) : "");
    } finally {
      ctx.close();
    }
  }
}
