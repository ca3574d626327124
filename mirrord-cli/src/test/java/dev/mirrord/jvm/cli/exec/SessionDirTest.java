package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionDirTest {

  @TempDir Path tmp;

  @Test
  void privateDirAndSessionFileAreRemovedOnClose() throws IOException {
    SessionDir dir = SessionDir.create(tmp, "ab12cd34");
    Properties p = new Properties();
    p.setProperty("token", dir.token());
    Path file = dir.writeSessionFile(p);
    Files.writeString(dir.agentSocket(), "stand-in");

    assertThat(dir.dir()).isEqualTo(tmp.resolve("mirrord-ab12cd34"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.dir()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    Properties read = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      read.load(in);
    }
    assertThat(read.getProperty("token")).isEqualTo(dir.token()).hasSize(64);

    dir.close();
    dir.close(); // idempotent
    assertThat(dir.dir()).doesNotExist();
  }

  @Test
  void idsAndTokensAreFresh() {
    assertThat(SessionDir.newId()).hasSize(8).isNotEqualTo(SessionDir.newId());
    try (SessionDir a = SessionDir.create(tmp, "a");
        SessionDir b = SessionDir.create(tmp, "b")) {
      assertThat(a.token()).isNotEqualTo(b.token());
    }
  }
}
