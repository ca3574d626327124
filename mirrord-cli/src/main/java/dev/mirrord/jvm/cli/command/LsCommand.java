package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.kube.KubeClientFactory;
import dev.mirrord.jvm.cli.kube.KubeTargetList;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mirrord ls [-n NS] [--context CTX]}: the targets in a namespace, one per line in the
 * {@code --target} syntax (running pods, their containers when they have several, deployments,
 * stateful sets), so a line can be pasted after {@code --target}.
 */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    versionProvider = dev.mirrord.jvm.cli.VersionInfo.class,
    description = {
      "List the Kubernetes targets in a namespace, one per line in the --target syntax.",
      "Example: mirrord ls -n shop"
    })
public final class LsCommand implements Callable<Integer> {

  @ParentCommand MirrordCommand parent;

  @Spec CommandSpec spec;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "Namespace to list (default: the context's, else default).")
  String namespace;

  @Option(names = "--context", paramLabel = "CTX", description = "Kubernetes context to use.")
  String context;

  @Override
  public Integer call() {
    try (KubeClientFactory.Connection connection =
        KubeClientFactory.connect(parent.environment().env(), context, namespace)) {
      List<String> targets = KubeTargetList.list(connection);
      PrintWriter out = spec.commandLine().getOut();
      targets.forEach(out::println);
      out.flush();
      if (targets.isEmpty()) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("mirrord: no targets in namespace " + connection.namespace());
        err.flush();
      }
      return 0;
    }
  }
}
