package dev.mirrord.jvm.protocol;

/** How incoming traffic to a subscribed port reaches the client. Wire codes are stable. */
public enum IncomingMode {
  /** Passive copy; the target still answers. */
  MIRROR(1),
  /** Redirected to the agent; the client answers. */
  STEAL(2);

  public final int code;

  IncomingMode(int code) {
    this.code = code;
  }

  public static IncomingMode ofCode(int code) {
    for (IncomingMode m : values()) {
      if (m.code == code) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown incoming mode code " + code);
  }
}
