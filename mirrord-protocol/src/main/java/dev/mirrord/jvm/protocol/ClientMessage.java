package dev.mirrord.jvm.protocol;

/** Messages that travel from a layer or the CLI towards the pod agent. */
public sealed interface ClientMessage extends Message
    permits Session.Hello,
        Session.Ping,
        Target.TargetInfoRequest,
        Target.EnvRequest,
        Target.ResolverFilesRequest,
        Dns.LookupRequest,
        Outgoing.ConnectRequest,
        Tcp.PortSubscribe,
        Tcp.PortUnsubscribe,
        Tcp.Data,
        Tcp.Shutdown,
        Tcp.Close,
        Tcp.Flow,
        Http.SubscribeFiltered,
        Http.Response,
        Http.BodyEnd {}
