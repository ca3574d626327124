package dev.mirrord.jvm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** Runs {@code mirrord …} in-process with captured stdout and stderr. */
public record CliRun(int code, String out, String err) {

  public static CliRun run(CliEnvironment environment, String... args) {
    CommandLine cmd = MirrordCommand.newCommandLine(environment, args); // as Main builds it
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  public List<String> errLines() {
    return err.lines().toList();
  }
}
