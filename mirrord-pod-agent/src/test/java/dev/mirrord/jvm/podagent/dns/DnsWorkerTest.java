package dev.mirrord.jvm.podagent.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resolver against a temporary resolv.conf + hosts and a DNS server on 127.0.0.1, asked from a
 * real NIO event loop as a client connection's would be.
 */
class DnsWorkerTest {
  private static final String SEARCH = "default.svc.cluster.local svc.cluster.local cluster.local";

  @TempDir Path dir;
  FakeDnsServer server;
  DnsWorker worker;
  EventLoopGroup group;
  EventLoop loop;

  @BeforeEach
  void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    loop = group.next();
    server =
        new FakeDnsServer()
            .record("svc.default.svc.cluster.local.", "198.18.0.20")
            .record("postgres.default.svc.cluster.local.", "198.18.0.20", "fd00::20")
            .record("redis.svc.cluster.local.", "198.18.0.21")
            .record("myhost.", "198.18.0.99")
            .failing("broken.")
            .silent("slow.");
    Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n10.1.2.3 myhost myalias\n");
    resolvConf("nameserver 127.0.0.1\nsearch " + SEARCH + "\noptions ndots:5 timeout:1 attempts:1\n");
    worker = new DnsWorker(dir.resolve("resolv.conf"), dir.resolve("hosts"), server.port());
  }

  @AfterEach
  void stop() throws Exception {
    worker.close();
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  /** A worker that reads the files now (the running one sees changes only at its next check). */
  private void restartWorker() {
    worker.close();
    worker = new DnsWorker(dir.resolve("resolv.conf"), dir.resolve("hosts"), server.port());
  }

  private void resolvConf(String text) throws Exception {
    Files.writeString(dir.resolve("resolv.conf"), text);
  }

  private RemoteResult<List<String>> lookup(String host, int family) throws Exception {
    return worker.lookup(host, family, loop).get(20, TimeUnit.SECONDS);
  }

  @Test
  void aLookupAskedOnTheClientsLoopIsAnsweredOnThatLoop() throws Exception {
    CompletableFuture<String> answeredOn = new CompletableFuture<>();
    CompletableFuture<RemoteResult<List<String>>> answer = new CompletableFuture<>();
    loop.execute(
        () ->
            worker
                .lookup("svc", Dns.ANY, loop)
                .thenAccept(
                    r -> {
                      answeredOn.complete(Thread.currentThread().getName());
                      answer.complete(r);
                    }));
    assertThat(answer.get(20, TimeUnit.SECONDS)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    String loopThread = loop.submit(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS);
    assertThat(answeredOn.get(5, TimeUnit.SECONDS)).isEqualTo(loopThread);
    assertThat(server.questions)
        .containsExactlyInAnyOrder("svc.default.svc.cluster.local./A", "svc.default.svc.cluster.local./AAAA");
  }

  @Test
  void aShortNameResolvesThroughTheFirstSearchDomain() throws Exception {
    assertThat(lookup("svc", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    assertThat(server.questions).containsExactly("svc.default.svc.cluster.local./A");
  }

  @Test
  void laterSearchDomainsAreTriedAfterNxdomain() throws Exception {
    assertThat(lookup("redis", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.21")));
    assertThat(server.questions)
        .containsExactly("redis.default.svc.cluster.local./A", "redis.svc.cluster.local./A");
  }

  @Test
  void aNameWithFewerDotsThanNdotsTriesTheSearchListBeforeTheAbsoluteName() throws Exception {
    assertThat(lookup("postgres.default.svc.cluster.local", Dns.IPV4))
        .isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    assertThat(server.questions.get(0))
        .isEqualTo("postgres.default.svc.cluster.local.default.svc.cluster.local./A");
    assertThat(server.questions).last().isEqualTo("postgres.default.svc.cluster.local./A");
  }

  @Test
  void withNdotsOneADottedNameIsTriedAsIsFirst() throws Exception {
    resolvConf("nameserver 127.0.0.1\nsearch " + SEARCH + "\noptions ndots:1 timeout:1 attempts:1\n");
    restartWorker();
    assertThat(lookup("postgres.default.svc.cluster.local", Dns.IPV4))
        .isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    assertThat(server.questions).containsExactly("postgres.default.svc.cluster.local./A");
  }

  @Test
  void anyFamilyGivesIpv4ThenIpv6AndEachFamilyOnlyItsOwn() throws Exception {
    String fqdn = "postgres.default.svc.cluster.local.";
    assertThat(lookup(fqdn, Dns.ANY)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20", "fd00:0:0:0:0:0:0:20")));
    assertThat(lookup(fqdn, Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    assertThat(lookup(fqdn, Dns.IPV6)).isEqualTo(RemoteResult.ok(List.of("fd00:0:0:0:0:0:0:20")));
  }

  @Test
  void nxdomainEverywhereIsNotFound() throws Exception {
    assertThat(lookup("nope", Dns.ANY)).isEqualTo(RemoteResult.err(new ResponseError.NotFound("nope")));
    assertThat(server.questions)
        .contains(
            "nope.default.svc.cluster.local./A",
            "nope.svc.cluster.local./A",
            "nope.cluster.local./A",
            "nope./A",
            "nope./AAAA");
  }

  @Test
  void aKnownNameWithoutAddressesOfTheFamilyIsNotFound() throws Exception {
    assertThat(lookup("svc.default.svc.cluster.local.", Dns.IPV6))
        .isEqualTo(RemoteResult.err(new ResponseError.NotFound("svc.default.svc.cluster.local.")));
  }

  @Test
  void aRewrittenResolvConfOrHostsFileIsUsedWithinTheFileCheckPeriod() throws Exception {
    assertThat(lookup("svc", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
    resolvConf("nameserver 127.0.0.1\nsearch svc.cluster.local\noptions ndots:5 timeout:1 attempts:1\n");
    await()
        .atMost(DnsWorker.FILE_CHECK_PERIOD.multipliedBy(10))
        .untilAsserted(
            () -> {
              server.questions.clear();
              assertThat(lookup("redis", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.21")));
              assertThat(server.questions).containsExactly("redis.svc.cluster.local./A");
            });
    Files.writeString(dir.resolve("hosts"), "10.9.9.9 svc\n");
    await()
        .atMost(DnsWorker.FILE_CHECK_PERIOD.multipliedBy(10))
        .untilAsserted(
            () -> assertThat(lookup("svc", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("10.9.9.9"))));
  }

  @Test
  void thePrimaryNameServerIsTheFirstOfTheCurrentResolvConf() throws Exception {
    assertThat(worker.primaryNameServer())
        .isEqualTo(new java.net.InetSocketAddress("127.0.0.1", server.port()));
    resolvConf("nameserver 198.18.0.53\nnameserver 127.0.0.1\n");
    await()
        .atMost(DnsWorker.FILE_CHECK_PERIOD.multipliedBy(10))
        .untilAsserted(
            () ->
                assertThat(worker.primaryNameServer())
                    .isEqualTo(new java.net.InetSocketAddress("198.18.0.53", server.port())));
  }

  @Test
  void aDnsFlowGoesToTheServerAskedWhenItIsOneOfTheTargetsElseToTheFirst() throws Exception {
    resolvConf("nameserver 198.18.0.53\nnameserver 198.18.0.54\n");
    await()
        .atMost(DnsWorker.FILE_CHECK_PERIOD.multipliedBy(10))
        .untilAsserted(
            () ->
                assertThat(worker.nameServerFor(new java.net.InetSocketAddress("198.18.0.54", 53)))
                    .isEqualTo(new java.net.InetSocketAddress("198.18.0.54", server.port())));
    assertThat(worker.nameServerFor(new java.net.InetSocketAddress("127.0.0.53", 53)))
        .as("a resolver of the app's own machine")
        .isEqualTo(new java.net.InetSocketAddress("198.18.0.53", server.port()));
  }

  @Test
  void theHostsFileWinsOverDns() throws Exception {
    assertThat(lookup("myhost", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("10.1.2.3")));
    assertThat(lookup("myalias", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("10.1.2.3")));
    assertThat(server.questions).noneMatch(q -> q.startsWith("myhost") || q.startsWith("myalias"));
  }

  @Test
  void aServerFailureIsRemoteIo() throws Exception {
    RemoteResult<List<String>> r = lookup("broken.", Dns.IPV4);
    assertThat(r).isInstanceOf(RemoteResult.Err.class);
    assertThat(((RemoteResult.Err<List<String>>) r).error()).isInstanceOf(ResponseError.RemoteIo.class);
  }

  @Test
  void aSilentServerTimesOutAsRemoteIoWithinTheConfiguredTimeout() throws Exception {
    long t0 = System.nanoTime();
    RemoteResult<List<String>> r = lookup("slow.", Dns.IPV4);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
    assertThat(r).isInstanceOf(RemoteResult.Err.class);
    ResponseError e = ((RemoteResult.Err<List<String>>) r).error();
    assertThat(e).isInstanceOf(ResponseError.RemoteIo.class);
    assertThat(e.describe()).contains("slow.");
  }

  @Test
  void aSilentServerIsAskedAgainForEachAttempt() throws Exception {
    resolvConf("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n");
    restartWorker();
    RemoteResult<List<String>> r = lookup("slow.", Dns.IPV4);
    assertThat(((RemoteResult.Err<List<String>>) r).error()).isInstanceOf(ResponseError.RemoteIo.class);
    assertThat(server.questions).containsExactly("slow./A", "slow./A");
  }

  @Test
  void theNameServersAreAskedInFileOrderAndALaterOneAnswersWhenTheFirstIsSilent() throws Exception {
    // 198.18.0.1 stands for a socket on 127.0.0.1 that never answers (the queries stay on loopback).
    // Two loopback servers on one port would trip an assertion of Netty's (both map to ::1).
    try (java.net.DatagramSocket silent =
        new java.net.DatagramSocket(new java.net.InetSocketAddress("127.0.0.1", 0))) {
      resolvConf("nameserver 198.18.0.1\nnameserver 127.0.0.1\nsearch " + SEARCH
          + "\noptions ndots:5 timeout:1 attempts:1\n");
      worker.close();
      worker =
          new DnsWorker(
              dir.resolve("resolv.conf"),
              dir.resolve("hosts"),
              s ->
                  new java.net.InetSocketAddress(
                      "127.0.0.1",
                      s.getAddress().getHostAddress().equals("198.18.0.1")
                          ? silent.getLocalPort()
                          : server.port()));
      long t0 = System.nanoTime();
      assertThat(lookup("svc", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("the silent first server had its 1 s")
          .isGreaterThanOrEqualTo(Duration.ofMillis(900));
      assertThat(server.questions).containsExactly("svc.default.svc.cluster.local./A");
    }
  }

  @Test
  void withoutANameserverLineTheLocalHostIsAskedAsLibcDoes() throws Exception {
    resolvConf("search " + SEARCH + "\n");
    restartWorker();
    assertThat(lookup("svc", Dns.IPV4)).isEqualTo(RemoteResult.ok(List.of("198.18.0.20")));
  }

  @Test
  void resolvConfOptionsAreParsedWithTheirCaps() throws Exception {
    ResolvConf c =
        ResolvConf.parse(
            ("# comment\nnameserver 198.18.0.53\nnameserver 10.0.0.1\nsearch a.b c.d\n"
                    + "options ndots:3 timeout:99 attempts:0 rotate\n")
                .getBytes());
    assertThat(c.servers()).extracting(s -> s.getAddress().getHostAddress())
        .containsExactly("198.18.0.53", "10.0.0.1");
    assertThat(c.searchPath()).containsExactly("a.b", "c.d");
    assertThat(c.ndots()).isEqualTo(3);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.attempts()).isEqualTo(1);
  }

  @Test
  void resolvConfKeepsThreeNameServersAndTheLastSearchOrDomainLineAsLibcDoes() {
    ResolvConf c =
        ResolvConf.parse(
            ("nameserver 10.0.0.1\nnameserver fd00::53\n; comment\nnameserver 10.0.0.3\n"
                    + "nameserver 10.0.0.4\nnameserver not-an-address\nsearch a.b c.d.\ndomain e.f\n"
                    + "options ndots:99\n")
                .getBytes());
    assertThat(c.servers()).extracting(s -> s.getAddress().getHostAddress())
        .containsExactly("10.0.0.1", "fd00:0:0:0:0:0:0:53", "10.0.0.3");
    assertThat(c.searchPath()).containsExactly("e.f");
    assertThat(c.ndots()).isEqualTo(15);
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.attempts()).isEqualTo(2);
  }

  @Test
  void dnsApiAnswersWithTheRequestIdAndNotImplementedWithoutAWorker() throws Exception {
    LinkedBlockingQueue<AgentMessage> replies = new LinkedBlockingQueue<>();
    new DnsApi(worker, replies::add, loop).handle(new Dns.LookupRequest(7, "svc", Dns.ANY));
    assertThat(replies.poll(20, TimeUnit.SECONDS))
        .isEqualTo(new Dns.LookupResponse(7, RemoteResult.ok(List.of("198.18.0.20"))));
    new DnsApi(null, replies::add, loop).handle(new Dns.LookupRequest(8, "svc", Dns.ANY));
    assertThat(replies.poll(1, TimeUnit.SECONDS))
        .isEqualTo(
            new Dns.LookupResponse(8, RemoteResult.err(new ResponseError.NotImplemented("remote DNS"))));
  }
}
