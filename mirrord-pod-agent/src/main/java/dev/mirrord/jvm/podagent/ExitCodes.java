package dev.mirrord.jvm.podagent;

/** The agent's exit codes: part of the CLI contract, never renumber. */
public final class ExitCodes {
  /** Normal exit: the CLI went away, nobody connected in time, or stdin closed. */
  public static final int OK = 0;

  /** Something unexpected (bind failed, I/O error at start-up); the line on stderr says what. */
  public static final int FAILURE = 1;

  /** Bad command line. */
  public static final int USAGE = 2;

  /** The target pid does not exist. */
  public static final int TARGET_NOT_FOUND = 3;

  /** The agent lacks the privilege to inspect the target (run it as root). */
  public static final int NOT_PERMITTED = 4;

  private ExitCodes() {}
}
