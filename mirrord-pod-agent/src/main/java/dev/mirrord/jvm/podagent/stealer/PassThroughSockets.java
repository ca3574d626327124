package dev.mirrord.jvm.podagent.stealer;

import dev.mirrord.jvm.podagent.sniffer.TcpSniffer;
import dev.mirrord.jvm.podagent.sys.Syscalls;
import dev.mirrord.jvm.protocol.relay.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sockets that carry unmatched requests of HTTP-filtered steal to the next filtering agent or the
 * target's own server. Each is created while the calling thread's fsgid is the agent's
 * pass-through gid ({@code setfsgid(2)}, per thread, through {@link Syscalls}), so that the iptables {@code
 * owner} match tells them apart from the agent's other traffic (see {@code NatRules.install}).
 * Without CAP_SETGID the gid stays the agent's own (exempt everywhere): logged once, and the
 * connection then goes straight to the target's server. Their packets carry DSCP {@link
 * TcpSniffer#AGENT_DSCP}, so that no agent's capture mirrors them: a request to a filtered port is
 * mirrored once, as its client's connection arrives, not again on each pass-through hop.
 */
final class PassThroughSockets {
  private static final Logger logger = LoggerFactory.getLogger(PassThroughSockets.class);
  private static final AtomicBoolean warned = new AtomicBoolean();

  private PassThroughSockets() {}

  /** A factory of socket channels for {@code loop} made under {@code gid} (0: the agent's own). */
  static ChannelFactory<Channel> factory(EventLoop loop, int gid) {
    Transport transport = Transport.of(loop);
    return () -> {
      if (gid == 0) {
        return newChannel(transport);
      }
      if (!Syscalls.supported()) {
        if (warned.compareAndSet(false, true)) {
          logger.warn("setfsgid is not available on {}: pass-through sockets keep the agent's gid",
              System.getProperty("os.arch"));
        }
        return newChannel(transport);
      }
      int previous = Syscalls.setfsgid(gid);
      try {
        if (Syscalls.setfsgid(-1) != gid && warned.compareAndSet(false, true)) {
          logger.warn("cannot set the pass-through gid {} (no CAP_SETGID?): unmatched requests go straight to"
              + " the target's server, past other filtering sessions", Integer.toUnsignedString(gid));
        }
        return newChannel(transport);
      } finally {
        Syscalls.setfsgid(previous);
      }
    };
  }

  private static Channel newChannel(Transport transport) {
    try {
      Channel ch = transport.socketChannel().getDeclaredConstructor().newInstance();
      // IP_TOS; NIO and native epoll both also set IPV6_TCLASS on an IPv6 socket
      ch.config().setOption(ChannelOption.IP_TOS, TcpSniffer.AGENT_DSCP << 2);
      return ch;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create a " + transport.socketChannel().getSimpleName(), e);
    }
  }
}
