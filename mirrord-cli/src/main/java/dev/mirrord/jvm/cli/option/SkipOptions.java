package dev.mirrord.jvm.cli.option;

import java.util.List;
import picocli.CommandLine.Option;

/** Which JVMs the layer stays out of: build tools' own ({@code skip_build_tools}) and listed ones. */
public final class SkipOptions {

  @Option(
      names = "--skip-jvms",
      split = ",",
      paramLabel = "GLOB",
      description =
          "JVMs that run without the layer, by main class or jar (comma list, * allowed), e.g."
              + " com.example.tools.*,*-cli.jar (skip_jvms).")
  List<String> skipJvms;

  @Option(
      names = "--no-skip-build-tools",
      description =
          "Load the layer into build tools' own JVMs too (Maven, Gradle, their daemons): their"
              + " downloads then go through the target (skip_build_tools=false).")
  boolean noSkipBuildTools;

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
