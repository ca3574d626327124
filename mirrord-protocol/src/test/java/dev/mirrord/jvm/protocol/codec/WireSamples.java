package dev.mirrord.jvm.protocol.codec;

import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Http;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.IncomingMode;
import dev.mirrord.jvm.protocol.Message;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.ProtocolVersion;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Session;
import dev.mirrord.jvm.protocol.Target;
import dev.mirrord.jvm.protocol.Tcp;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One or more sample messages per wire tag, each with the name of its golden fixture
 * ({@code src/test/resources/wire/<name>.hex}). Shared through the test-jar with other modules'
 * tests (the agent's fuzz test mutates these).
 */
public final class WireSamples {
  private WireSamples() {}

  public record Sample(String name, Message message) {}

  public static List<Sample> all() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DB_URL", "postgres://postgres:5432/app");
    env.put("EMPTY", "");
    env.put("WITH_EQ", "a=b=c");
    return List.of(
        new Sample("hello", new Session.Hello(new ProtocolVersion(1, 0), "tok3n", "layer pid=42 app")),
        new Sample("ping", new Session.Ping(0x0102030405060708L)),
        new Sample("hello_ok", new Session.HelloOk(new ProtocolVersion(1, 0), "0.1.0")),
        new Sample(
            "hello_rejected",
            new Session.HelloRejected(new ProtocolVersion(1, 0), "bad session token")),
        new Sample("pong", new Session.Pong(-1L)),
        new Sample("agent_log", new Session.AgentLog(Session.AgentLog.Level.WARN, "héllo ✓")),
        new Sample("target_info_request", new Target.TargetInfoRequest(7)),
        new Sample("env_request", new Target.EnvRequest(8)),
        new Sample(
            "target_info",
            new Target.TargetInfo(7, 4242, 4026531840L, "pod-0", List.of("198.18.0.10", "fe80::1"))),
        new Sample("env_response_ok", new Target.EnvResponse(8, RemoteResult.ok(env))),
        new Sample(
            "env_response_err",
            new Target.EnvResponse(9, RemoteResult.err(new ResponseError.Forbidden("run as root")))),
        new Sample("port_subscribe", new Tcp.PortSubscribe(8080, IncomingMode.STEAL)),
        new Sample("port_unsubscribe", new Tcp.PortUnsubscribe(8080)),
        new Sample(
            "tcp_data",
            new Tcp.Data(3, Payload.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))),
        new Sample("tcp_data_empty", new Tcp.Data(3, Payload.EMPTY)),
        new Sample("tcp_shutdown", new Tcp.Shutdown(3)),
        new Sample("tcp_close_reset", new Tcp.Close(3, true)),
        new Sample("tcp_flow_paused", new Tcp.Flow(3, true)),
        new Sample("port_subscribe_result_ok", new Tcp.PortSubscribeResult(8080, RemoteResult.ok(8080))),
        new Sample(
            "port_subscribe_result_stolen",
            new Tcp.PortSubscribeResult(
                8080, RemoteResult.err(new ResponseError.PortAlreadyStolen(8080)))),
        new Sample(
            "port_subscribe_result_io",
            new Tcp.PortSubscribeResult(
                80, RemoteResult.err(new ResponseError.RemoteIo(13, "permission denied")))),
        new Sample(
            "port_subscribe_result_notfound",
            new Tcp.PortSubscribeResult(81, RemoteResult.err(new ResponseError.NotFound("x")))),
        new Sample(
            "port_subscribe_result_unimplemented",
            new Tcp.PortSubscribeResult(
                82, RemoteResult.err(new ResponseError.NotImplemented("mirror")))),
        new Sample("incoming_peer", new Tcp.IncomingPeer(43210, "198.18.0.100", 51234)),
        new Sample("incoming_peer_forget", Tcp.IncomingPeer.forget(43210)),
        new Sample(
            "new_connection",
            new Tcp.NewConnection(
                3, IncomingMode.MIRROR, 8080, "198.18.0.100", 51234, "198.18.0.10", 8080)),
        new Sample("dns_lookup_request", new Dns.LookupRequest(11, "postgres", Dns.ANY)),
        new Sample("dns_lookup_request_ipv6", new Dns.LookupRequest(12, "svc.default.svc", Dns.IPV6)),
        new Sample(
            "dns_lookup_response_ok",
            new Dns.LookupResponse(11, RemoteResult.ok(List.of("198.18.0.20", "fd00::20")))),
        new Sample(
            "dns_lookup_response_notfound",
            new Dns.LookupResponse(13, RemoteResult.err(new ResponseError.NotFound("nope")))),
        new Sample(
            "dns_lookup_response_io",
            new Dns.LookupResponse(
                14, RemoteResult.err(new ResponseError.RemoteIo(0, "timed out: 198.18.0.53")))),
        new Sample(
            "outgoing_connect_request",
            new Outgoing.ConnectRequest(21, Outgoing.Protocol.TCP, "198.18.0.20", 5432, 3000)),
        new Sample(
            "outgoing_connect_request_dns",
            new Outgoing.ConnectRequest(22, Outgoing.Protocol.DNS_UDP, "10.255.255.53", 53, 0)),
        new Sample(
            "outgoing_connect_response_ok",
            new Outgoing.ConnectResponse(21, RemoteResult.ok(
                new Outgoing.Connected(Outgoing.ID_BIT | 7, "198.18.0.10", 41234)))),
        new Sample(
            "outgoing_connect_response_refused",
            new Outgoing.ConnectResponse(23, RemoteResult.err(new ResponseError.RemoteIo(
                Outgoing.ECONNREFUSED, "Connection refused: 198.18.0.20:5433")))),
        new Sample("outgoing_data", new Tcp.Data(Outgoing.ID_BIT | 7, Payload.wrap(new byte[] {1, 2, 3}))),
        new Sample("resolver_files_request", new Target.ResolverFilesRequest(31)),
        new Sample(
            "resolver_files",
            new Target.ResolverFiles(
                31,
                RemoteResult.ok(Payload.wrap(
                    "nameserver 198.18.0.53\nsearch default.svc.cluster.local\n".getBytes(StandardCharsets.US_ASCII))),
                RemoteResult.ok(Payload.wrap("198.18.0.10\tpod\n".getBytes(StandardCharsets.US_ASCII))))),
        new Sample(
            "resolver_files_errors",
            new Target.ResolverFiles(
                32,
                RemoteResult.err(new ResponseError.Forbidden("cannot read /proc/7/root/etc/resolv.conf")),
                RemoteResult.err(new ResponseError.NotFound("/proc/7/root/etc/hosts")))),
        new Sample("http_subscribe_filtered", new Http.SubscribeFiltered(8080, IncomingMode.STEAL,
            new Http.Filter.AnyOf(List.of(
                new Http.Filter.Header("^x-dev: alice$"),
                new Http.Filter.AllOf(List.of(new Http.Filter.Path("^/api/v1"), new Http.Filter.Method("POST"))))))),
        new Sample("http_subscribe_filtered_mirror",
            new Http.SubscribeFiltered(8080, IncomingMode.MIRROR, new Http.Filter.Path("/health"))),
        new Sample("http_request", new Http.Request(Tcp.STEAL_ID_BIT | 9, Tcp.STEAL_ID_BIT | 8, 8080,
            "198.18.0.100", 51234, Http.HTTP_1_1, "POST", "/api/v1/x?y=1",
            List.of(new Http.Header("Host", "pod:8080"), new Http.Header("X-Dev", "alice"),
                new Http.Header("Transfer-Encoding", "chunked")), false)),
        new Sample("http_request_h2", new Http.Request(Tcp.STEAL_ID_BIT | 10, Tcp.STEAL_ID_BIT | 8, 8080,
            "fd00::100", 51235, Http.HTTP_2, "GET", "/svc.Echo/Say",
            List.of(new Http.Header(":method", "GET"), new Http.Header(":path", "/svc.Echo/Say"),
                new Http.Header("x-dev", "bob")), true)),
        new Sample("http_response", new Http.Response(Tcp.STEAL_ID_BIT | 9, Http.HTTP_1_1, 200, "OK",
            List.of(new Http.Header("Content-Length", "5")), false)),
        new Sample("http_body_end", new Http.BodyEnd(Tcp.STEAL_ID_BIT | 9,
            List.of(new Http.Header("grpc-status", "0"), new Http.Header("grpc-message", "")))),
        new Sample("http_body_end_empty", new Http.BodyEnd(Tcp.STEAL_ID_BIT | 9, List.of())),
        new Sample("port_subscribe_result_conflict", new Tcp.PortSubscribeResult(8080, RemoteResult.err(
            new ResponseError.PortConflict(8080, "port 8080 is stolen with an HTTP filter by mirrord session s1")))));
  }
}
