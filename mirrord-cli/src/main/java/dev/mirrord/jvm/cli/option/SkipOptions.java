package dev.mirrord.jvm.cli.option;

import dev.mirrord.jvm.picocli.OptionSpecs;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/** Which JVMs the layer stays out of: build tools' own ({@code skip_build_tools}) and listed ones. */
public final class SkipOptions {

  // The flags, set by bind() from the parsed model (see addTo()).
  List<String> skipJvms;
  boolean noSkipBuildTools;

  static void addTo(CommandSpec spec) {
    spec.addOption(
        OptionSpecs.list(
            "GLOB",
            String.class,
            ",",
            "JVMs that run without the layer, by main class or jar (comma list, * allowed), e.g."
                + " com.example.tools.*,*-cli.jar (skip_jvms).",
            "--skip-jvms"));
    spec.addOption(
        OptionSpecs.flag(
            "Load the layer into build tools' own JVMs too (Maven, Gradle, their daemons): their"
                + " downloads then go through the target (skip_build_tools=false).",
            "--no-skip-build-tools"));
  }

  void bind(CommandSpec spec) {
    skipJvms = OptionSpecs.value(spec, "--skip-jvms", null);
    noSkipBuildTools = OptionSpecs.value(spec, "--no-skip-build-tools", false);
  }

  /** FALSE if --no-skip-build-tools was given, else null (the lower levels decide). */
  public Boolean skipBuildTools() {
    return noSkipBuildTools ? Boolean.FALSE : null;
  }

  /** The globs given, or null. */
  public List<String> skipJvms() {
    return skipJvms == null
        ? null
        : skipJvms.stream().map(String::strip).filter(g -> !g.isEmpty()).toList();
  }
}
