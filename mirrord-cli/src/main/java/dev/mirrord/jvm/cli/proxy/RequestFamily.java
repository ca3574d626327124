package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;
import dev.mirrord.jvm.protocol.ClientMessage;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.Outgoing;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Target;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * One request/response pair correlated by a request id: how to read and rewrite the id on both
 * messages, and (if the answer can carry an error) how to answer locally when the agent is gone.
 * {@link #ALL} is the table the {@link RequestRouter} consults; a new message family plugs in by
 * adding one entry.
 */
public record RequestFamily<Q extends ClientMessage, A extends AgentMessage>(
    String name,
    Class<Q> requestType,
    ToLongFunction<Q> requestId,
    BiFunction<Q, Long, Q> withRequestId,
    Class<A> responseType,
    ToLongFunction<A> responseId,
    BiFunction<A, Long, A> withResponseId,
    BiFunction<Long, ResponseError, A> failure) {

  public static final RequestFamily<Target.TargetInfoRequest, Target.TargetInfo> TARGET_INFO =
      new RequestFamily<>(
          "target info",
          Target.TargetInfoRequest.class,
          Target.TargetInfoRequest::requestId,
          (q, id) -> new Target.TargetInfoRequest(id),
          Target.TargetInfo.class,
          Target.TargetInfo::requestId,
          (a, id) -> new Target.TargetInfo(id, a.pid(), a.netnsInode(), a.hostname(), a.addresses()),
          null); // TargetInfo cannot carry an error: the layer's own timeout applies

  public static final RequestFamily<Target.EnvRequest, Target.EnvResponse> ENV =
      new RequestFamily<>(
          "environment",
          Target.EnvRequest.class,
          Target.EnvRequest::requestId,
          (q, id) -> new Target.EnvRequest(id),
          Target.EnvResponse.class,
          Target.EnvResponse::requestId,
          (a, id) -> new Target.EnvResponse(id, a.env()),
          (id, error) -> new Target.EnvResponse(id, RemoteResult.err(error)));

  public static final RequestFamily<Target.ResolverFilesRequest, Target.ResolverFiles> RESOLVER_FILES =
      new RequestFamily<>(
          "resolver files",
          Target.ResolverFilesRequest.class,
          Target.ResolverFilesRequest::requestId,
          (q, id) -> new Target.ResolverFilesRequest(id),
          Target.ResolverFiles.class,
          Target.ResolverFiles::requestId,
          (a, id) -> new Target.ResolverFiles(id, a.resolvConf(), a.hosts()),
          (id, error) -> new Target.ResolverFiles(id, RemoteResult.err(error), RemoteResult.err(error)));

  public static final RequestFamily<Dns.LookupRequest, Dns.LookupResponse> DNS_LOOKUP =
      new RequestFamily<>(
          "dns lookup",
          Dns.LookupRequest.class,
          Dns.LookupRequest::requestId,
          (q, id) -> new Dns.LookupRequest(id, q.host(), q.family()),
          Dns.LookupResponse.class,
          Dns.LookupResponse::requestId,
          (a, id) -> new Dns.LookupResponse(id, a.addresses()),
          (id, error) -> new Dns.LookupResponse(id, RemoteResult.err(error)));

  public static final RequestFamily<Outgoing.ConnectRequest, Outgoing.ConnectResponse> OUTGOING_CONNECT =
      new RequestFamily<>(
          "outgoing connect",
          Outgoing.ConnectRequest.class,
          Outgoing.ConnectRequest::requestId,
          (q, id) -> new Outgoing.ConnectRequest(id, q.protocol(), q.address(), q.port(), q.timeoutMillis()),
          Outgoing.ConnectResponse.class,
          Outgoing.ConnectResponse::requestId,
          (a, id) -> new Outgoing.ConnectResponse(id, a.result()),
          (id, error) -> new Outgoing.ConnectResponse(id, RemoteResult.err(error)));

  /** Every correlated family the proxy routes. */
  public static final List<RequestFamily<?, ?>> ALL =
      List.of(TARGET_INFO, ENV, DNS_LOOKUP, OUTGOING_CONNECT, RESOLVER_FILES);

  /** The family whose request type {@code msg} is, or null. */
  public static RequestFamily<?, ?> forRequest(ClientMessage msg) {
    for (RequestFamily<?, ?> f : ALL) {
      if (f.requestType.isInstance(msg)) {
        return f;
      }
    }
    return null;
  }

  /** The family whose response type {@code msg} is, or null. */
  public static RequestFamily<?, ?> forResponse(AgentMessage msg) {
    for (RequestFamily<?, ?> f : ALL) {
      if (f.responseType.isInstance(msg)) {
        return f;
      }
    }
    return null;
  }

  long idOfRequest(ClientMessage msg) {
    return requestId.applyAsLong(requestType.cast(msg));
  }

  ClientMessage requestWithId(ClientMessage msg, long id) {
    return withRequestId.apply(requestType.cast(msg), id);
  }

  long idOfResponse(AgentMessage msg) {
    return responseId.applyAsLong(responseType.cast(msg));
  }

  AgentMessage responseWithId(AgentMessage msg, long id) {
    return withResponseId.apply(responseType.cast(msg), id);
  }

  /** A local error answer, or null if this family's answer cannot carry one. */
  AgentMessage failureFor(long id, ResponseError error) {
    return failure == null ? null : failure.apply(id, error);
  }
}
