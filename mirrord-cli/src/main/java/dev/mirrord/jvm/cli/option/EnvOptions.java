package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import java.util.List;
import picocli.CommandLine.Option;

/** Import of the target's environment. */
public final class EnvOptions {

  @Option(names = "--no-env", description = "Do not import the target's environment variables.")
  boolean noEnv;

  @Option(
      names = "--env-include",
      split = ",",
      paramLabel = "GLOB",
      description = "Import only these variables (comma list, * allowed).")
  List<String> include;

  @Option(
      names = "--env-exclude",
      split = ",",
      paramLabel = "GLOB",
      description = "Never import these variables (comma list, * allowed).")
  List<String> exclude;

  public MirrordConfig.Env env() {
    if (!noEnv && include == null && exclude == null) {
      return null;
    }
    return new MirrordConfig.Env(noEnv ? Boolean.FALSE : null, clean(include), clean(exclude));
  }

  private static List<String> clean(List<String> globs) {
    return globs == null ? null : globs.stream().map(String::strip).filter(g -> !g.isEmpty()).toList();
  }
}
