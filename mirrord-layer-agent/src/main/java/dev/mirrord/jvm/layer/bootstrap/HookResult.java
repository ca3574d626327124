package dev.mirrord.jvm.layer.bootstrap;

/**
 * What the layer decided for one hooked call: {@link #HANDLED} (the layer takes care of it) or a
 * {@linkplain #bypass bypass} with the {@link Reason} why the JDK's own behaviour stands. Ops
 * return this instead of throwing, so every decision is visible in tests and logs.
 */
public final class HookResult {
  /** Why a call was left to the JDK. */
  public enum Reason {
    /** Not bypassed. */
    NONE,
    /** The address is not an internet socket address (e.g. a Unix domain socket). */
    NOT_INET,
    /** The port the call ended up with is unknown. */
    UNKNOWN_PORT,
    /** The app asked for port 0: the OS picked a port nobody in the target knows about. */
    EPHEMERAL_PORT,
    /** The port is in the session's {@code ignore.ports}. */
    IGNORED_PORT,
    /** The feature is switched off for this session. */
    DISABLED_BY_CONFIG,
    /** The layer has no connection to the CLI. */
    NOT_CONNECTED,
    /** The layer failed while deciding; see the layer log. */
    ERROR,
    /** The CLI or agent refused (e.g. the port is stolen by another session). */
    REMOTE_REFUSED,
    /** A name that always means this machine ({@code localhost}, its own host name, an IP literal). */
    LOCAL_NAME,
    /** The CLI or agent speaks a protocol version without this feature. */
    UNSUPPORTED_BY_PEER
  }

  /** The layer takes care of the call. */
  public static final HookResult HANDLED = new HookResult(Reason.NONE);

  private static final HookResult[] BYPASS = new HookResult[Reason.values().length];

  static {
    for (Reason r : Reason.values()) {
      BYPASS[r.ordinal()] = new HookResult(r);
    }
  }

  private final Reason reason;

  private HookResult(Reason reason) {
    this.reason = reason;
  }

  /** Leave the call to the JDK, for {@code reason} (not {@link Reason#NONE}). */
  public static HookResult bypass(Reason reason) {
    if (reason == null || reason == Reason.NONE) {
      throw new IllegalArgumentException("a bypass needs a reason");
    }
    return BYPASS[reason.ordinal()];
  }

  public boolean isBypass() {
    return reason != Reason.NONE;
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return isBypass() ? "bypass:" + reason : "HANDLED";
  }
}
