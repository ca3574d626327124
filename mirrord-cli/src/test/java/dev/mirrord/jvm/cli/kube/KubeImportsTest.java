package dev.mirrord.jvm.cli.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** HOUSE_STYLE rule 9: io.fabric8 is imported only in dev.mirrord.jvm.cli.kube (the enforcer keeps it out of other modules). */
class KubeImportsTest {

  @Test
  void fabric8IsImportedOnlyInTheKubePackage() throws IOException {
    Path main = Path.of("src/main/java");
    Path kube = main.resolve("dev/mirrord/jvm/cli/kube");
    try (Stream<Path> files = Files.walk(main)) {
      List<Path> offenders =
          files
              .filter(f -> f.toString().endsWith(".java"))
              .filter(f -> !f.startsWith(kube))
              .filter(f -> read(f).contains("io.fabric8"))
              .toList();
      assertThat(offenders).isEmpty();
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
