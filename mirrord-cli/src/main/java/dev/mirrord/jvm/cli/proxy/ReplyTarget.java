package dev.mirrord.jvm.cli.proxy;

import dev.mirrord.jvm.protocol.AgentMessage;

/** Who gets an answer routed back: a layer connection, or the CLI's own pending request. */
interface ReplyTarget {

  /** Delivers an answer that already carries this target's original request id. */
  void deliver(AgentMessage answer);

  /** For logs. */
  String describe();
}
