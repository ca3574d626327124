package dev.mirrord.jvm.layer.socket;

import dev.mirrord.jvm.protocol.IncomingMode;

/**
 * Asks the session to send the target's incoming traffic for a port here. Implemented by the
 * transport; {@link ListenOps} only decides <em>whether</em> to subscribe.
 */
public interface PortSubscriber {
  /** Subscribes {@code remotePort}; returns {@code null} on success, else why not (one line). */
  String subscribe(int remotePort, IncomingMode mode);

  /** Undoes {@link #subscribe}; never blocks. */
  void unsubscribe(int remotePort);

  /** Subscribes nothing: for tests and for {@code incoming.mode=off}. */
  PortSubscriber NONE =
      new PortSubscriber() {
        @Override
        public String subscribe(int remotePort, IncomingMode mode) {
          return null;
        }

        @Override
        public void unsubscribe(int remotePort) {}
      };
}
