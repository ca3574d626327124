package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.picocli.OptionSpecs;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** Import of the target's environment. */
public final class EnvOptions {

  // The flags, set by bind() from the parsed model (see addTo()).
  boolean noEnv;
  List<String> include;
  List<String> exclude;

  static void addTo(CommandSpec spec) {
    spec.addOption(OptionSpecs.flag("Do not import the target's environment variables.", "--no-env"));
    spec.addOption(
        OptionSpecs.list(
            "GLOB", String.class, ",", "Import only these variables (comma list, * allowed).", "--env-include"));
    spec.addOption(
        OptionSpecs.list(
            "GLOB", String.class, ",", "Never import these variables (comma list, * allowed).", "--env-exclude"));
  }

  void bind(CommandSpec spec) {
    noEnv = OptionSpecs.value(spec, "--no-env", false);
    include = OptionSpecs.value(spec, "--env-include", null);
    exclude = OptionSpecs.value(spec, "--env-exclude", null);
  }

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
