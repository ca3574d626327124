package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.container.Commands;
import dev.mirrord.jvm.cli.container.ContainerRuntime;
import dev.mirrord.jvm.cli.container.LocalContainers;
import dev.mirrord.jvm.cli.kube.KubeClientFactory;
import dev.mirrord.jvm.cli.kube.KubeTargetList;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mirrord ls [-n NS] [--context CTX] [-c]}: the targets, one per line in the {@code
 * --target} syntax, so a line can be pasted after {@code --target}: the running containers of this
 * machine's podman and Docker ({@code container/NAME}), then the namespace's running pods, their
 * containers when they have several, deployments, stateful sets. Without a Kubernetes
 * configuration the containers are the whole answer (one line on stderr says why), unless {@code
 * -n} or {@code --context} asked for a cluster.
 */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    versionProvider = dev.mirrord.jvm.cli.VersionInfo.class,
    description = {
      "List the targets, one per line in the --target syntax: this machine's running podman and Docker",
      "containers, then the Kubernetes targets of a namespace.",
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

  @Option(
      names = {"-c", "--accept-invalid-certificates"},
      description = "Trust the Kubernetes API server's TLS certificate whatever it is (insecure).")
  boolean acceptInvalidCertificates;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // local containers first, when a runtime is there (podman, docker on PATH)
    List<String> problems = new ArrayList<>();
    List<ContainerRuntime> runtimes = ContainerRuntime.detect(parent.environment().env());
    List<String> containers =
        runtimes.isEmpty() ? List.of() : new LocalContainers(runtimes, Commands.system()).targets(problems);
    containers.forEach(out::println);
    out.flush();
    problems.forEach(p -> err.println("mirrord: warning: " + p));
    boolean localAnswered = runtimes.size() > problems.size();
    if (acceptInvalidCertificates) {
      err.println("mirrord: warning: -c: the Kubernetes API server's TLS certificate is not checked");
    }
    err.flush();
    try (KubeClientFactory.Connection connection =
        KubeClientFactory.connect(parent.environment().env(), context, namespace, acceptInvalidCertificates)) {
      List<String> targets = KubeTargetList.list(connection);
      targets.forEach(out::println);
      out.flush();
      if (targets.isEmpty()) {
        err.println("mirrord: no targets in namespace " + connection.namespace());
        err.flush();
      }
      return 0;
    } catch (MirrordException e) {
      if (!localAnswered || namespace != null || context != null) {
        throw e;
      }
      // containers were listed; without a cluster that is the whole answer
      err.println("mirrord: no Kubernetes targets: " + e.getMessage());
      err.flush();
      return 0;
    }
  }
}
