package dev.mirrord.jvm.protocol;

/** Messages that travel from the pod agent towards the CLI and the layers. */
public sealed interface AgentMessage extends Message
    permits Session.HelloOk,
        Session.HelloRejected,
        Session.Pong,
        Session.AgentLog,
        Target.TargetInfo,
        Target.EnvResponse,
        Target.ResolverFiles,
        Dns.LookupResponse,
        Outgoing.ConnectResponse,
        Tcp.PortSubscribeResult,
        Tcp.NewConnection,
        Tcp.IncomingPeer,
        Tcp.Data,
        Tcp.Shutdown,
        Tcp.Close,
        Tcp.Flow,
        Http.Request,
        Http.BodyEnd {}
