package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcStatTest {
  @Test
  void fieldsAreCountedFromTheNamesLastParenthesis() {
    String stat = "4242 (a) b) c) S 4200 4242 4100 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 3 0 98765 1000\n";
    assertThat(ProcStat.field(stat, 1)).isEqualTo("4242");
    assertThat(ProcStat.field(stat, 2)).isEqualTo("(a) b) c)");
    assertThat(ProcStat.field(stat, 3)).isEqualTo("S");
    assertThat(ProcStat.field(stat, 6)).as("the session").isEqualTo("4100");
    assertThat(ProcStat.field(stat, 22)).as("the start time").isEqualTo("98765");
    assertThat(ProcStat.field(stat, 23)).isEqualTo("1000");
    assertThat(ProcStat.field(stat, 24)).isNull();
  }

  @Test
  void aCutLineHasNoFields() {
    assertThat(ProcStat.field("7 (x)", 3)).isNull();
    assertThat(ProcStat.field("", 1)).isNull();
    assertThat(ProcStat.field("7", 2)).isNull();
  }

  @Test
  void thisProcessesOwnLine() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    assertThat(ProcStat.field(stat, 1)).isEqualTo(Long.toString(ProcessHandle.current().pid()));
    assertThat(ProcStat.field(stat, 3)).isNotNull();
  }
}
