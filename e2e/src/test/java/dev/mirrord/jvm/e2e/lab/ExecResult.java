package dev.mirrord.jvm.e2e.lab;

/** Outcome of a command run to completion inside a lab namespace. */
public record ExecResult(int exitCode, String stdout, String stderr) {
  public boolean ok() {
    return exitCode == 0;
  }

  @Override
  public String toString() {
    return "exit " + exitCode + ", stdout: [" + stdout.strip() + "], stderr: [" + stderr.strip() + "]";
  }
}
