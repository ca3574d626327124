package dev.mirrord.jvm.protocol.codec;

/** Which end of a connection a pipeline serves; decides which tags it may receive. */
public enum Side {
  /** Receives client messages, sends agent messages: the pod agent, and the CLI towards layers. */
  AGENT,
  /** Sends client messages, receives agent messages: a layer, and the CLI towards the agent. */
  CLIENT
}
