package dev.mirrord.jvm.e2e.lab;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository, {@code scripts/lab.sh} and the module jars are, as seen from a test JVM. */
public final class LabPaths {
  private LabPaths() {}

  /**
   * The repository root: system property {@code mirrord.repo.root} (set by the e2e pom), else the first parent of
   * the working directory that holds {@code scripts/lab.sh}.
   */
  public static Path repoRoot() {
    String configured = System.getProperty("mirrord.repo.root");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("scripts/lab.sh"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "cannot find the repository root (no scripts/lab.sh above " + Path.of("").toAbsolutePath() + ")");
  }

  /** {@code scripts/lab.sh}, the one definition of the lab topology. */
  public static Path labScript() {
    return repoRoot().resolve("scripts/lab.sh");
  }

  /** A module's packaged jar, e.g. {@code jar("mirrord-cli")} is {@code mirrord-cli/target/mirrord-cli.jar}. */
  public static Path jar(String module) {
    return repoRoot().resolve(module).resolve("target").resolve(module + ".jar");
  }

  /** Per-lab directory for the output of processes the tests start: {@code e2e/target/lab-logs/<prefix>}. */
  public static Path logDir(String prefix) {
    return repoRoot().resolve("e2e/target/lab-logs").resolve(prefix);
  }
}
