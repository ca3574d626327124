package dev.mirrord.jvm.layer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlainFilesTest {
  @TempDir Path dir;

  @Test
  void readsAsFilesDoesAndAMissingFileIsNoSuchFile() throws Exception {
    Path f = Files.write(dir.resolve("a"), new byte[] {1, 2, 3});
    assertThat(PlainFiles.readAllBytes(f)).containsExactly(1, 2, 3);

    assertThatThrownBy(() -> PlainFiles.readAllBytes(dir.resolve("missing")))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessage(dir.resolve("missing").toString());
    assertThatThrownBy(() -> PlainFiles.readAllBytes(dir))
        .as("there, but not readable as a file: not 'missing'")
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(NoSuchFileException.class);
  }
}
