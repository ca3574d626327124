package dev.mirrord.jvm.podagent.stealer;

import io.netty.channel.EventLoop;

/**
 * Something a client session sends stream messages to under one id: a whole stolen connection, or
 * one matched HTTP request (or upgraded connection) of a filtered port. Every method runs on {@link
 * #loop()}.
 */
interface StolenFlow {
  long id();

  StealClient owner();

  /** The loop of the client socket this flow belongs to. */
  EventLoop loop();

  /**
   * A {@code Tcp.Data/Shutdown/Close/Flow}, {@code DataFrame}, {@code Http.Response} or {@code
   * Http.BodyEnd} from the owner; takes ownership of a {@code DataFrame}.
   */
  void fromOwner(Object message);

  /** The owner's connection became (un)writable. */
  void ownerWritabilityChanged();

  /** The owner is gone: end the flow without telling it. */
  void ownerGone();
}
