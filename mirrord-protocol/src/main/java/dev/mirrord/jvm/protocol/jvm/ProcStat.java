package dev.mirrord.jvm.protocol.jvm;

/**
 * The fields of a Linux {@code /proc/<pid>/stat} line, numbered as proc(5) numbers them: 1 the pid, 2 the command's
 * name in parentheses, 3 the state, ... The name may hold spaces and parentheses itself, so the fields after it are
 * counted from its last {@code ')'}.
 */
public final class ProcStat {
  private ProcStat() {}

  /** Field {@code number} (1-based) of {@code stat}, or null if the line has no such field. */
  public static String field(String stat, int number) {
    if (number == 1) {
      int space = stat.indexOf(' ');
      return space > 0 ? stat.substring(0, space) : null;
    }
    int close = stat.lastIndexOf(')');
    if (number == 2) {
      int open = stat.indexOf('(');
      return open >= 0 && close > open ? stat.substring(open, close + 1) : null;
    }
    if (close < 0 || close + 2 >= stat.length()) {
      return null;
    }
    String[] after = stat.substring(close + 2).split(" ");
    int i = number - 3;
    return i >= 0 && i < after.length ? after[i].strip() : null;
  }
}
