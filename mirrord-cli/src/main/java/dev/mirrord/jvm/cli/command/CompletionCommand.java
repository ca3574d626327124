package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mirrord completion bash}: prints a bash completion script (also usable from zsh). */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print a shell completion script.",
      "Example: source <(mirrord completion bash)"
    })
public final class CompletionCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SHELL", description = "Only 'bash' for now.")
  String shell;

  @Override
  public Integer call() {
    if (!"bash".equals(shell)) {
      throw new MirrordException(
          ExitCode.USAGE, "no completion script for '" + shell + "'; use 'mirrord completion bash'");
    }
    spec.commandLine()
        .getOut()
        .print(AutoComplete.bash("mirrord", spec.root().commandLine()));
    spec.commandLine().getOut().flush();
    return ExitCode.OK.code;
  }
}
