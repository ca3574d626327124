package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.AgentMessage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The session end of the layer's pipeline: hands answers and unsolicited messages to the {@link
 * ProxyConnection}, turns writer-idle into a {@code Ping}, and reports the connection's end. A bad
 * frame or any other error costs one log line and the connection, never the app.
 */
final class ProxySessionHandler extends SimpleChannelInboundHandler<AgentMessage> {
  private final ProxyConnection connection;
  private final LayerLog log;
  private boolean warnedReaderIdle;

  ProxySessionHandler(ProxyConnection connection, LayerLog log) {
    this.connection = connection;
    this.log = log;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, AgentMessage msg) {
    warnedReaderIdle = false;
    connection.received(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent e) {
      if (e.state() == IdleState.WRITER_IDLE) {
        connection.ping();
      } else if (e.state() == IdleState.READER_IDLE && !warnedReaderIdle) {
        warnedReaderIdle = true;
        log.warn("nothing heard from the mirrord CLI for a while; the connection may be dead");
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    connection.closed();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.error("connection to the mirrord CLI failed, closing it: " + cause);
    ctx.close();
  }
}
