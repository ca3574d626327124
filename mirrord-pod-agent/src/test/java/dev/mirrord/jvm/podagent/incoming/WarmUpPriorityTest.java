package dev.mirrord.jvm.podagent.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmUpPriorityTest {
  @TempDir Path proc;

  @Test
  void aSessionLeaderLowersItsGroupAndRestoresIt() throws Exception {
    fakeSelf("4242 (java) S 4200 4242 4242 0 -1 4194560", "/autogroup-77 nice 0\n");
    WarmUpPriority priority = new WarmUpPriority(proc);

    assertThat(priority.lower()).isTrue();
    assertThat(autogroup()).isEqualTo(Integer.toString(WarmUpPriority.WARM_UP_NICE));
    priority.restore();
    assertThat(autogroup()).isEqualTo("0");

    Files.writeString(proc.resolve("self/autogroup"), "untouched");
    priority.restore(); // once only: a second restore (the warm-up's end after a subscription's) writes nothing
    assertThat(autogroup()).isEqualTo("untouched");
  }

  @Test
  void aSubscriptionBeforeTheWarmUpsThreadRanKeepsTheNormalWeight() throws Exception {
    fakeSelf("4242 (java) S 4200 4242 4242 0 -1 4194560", "/autogroup-77 nice 0\n");
    WarmUpPriority priority = new WarmUpPriority(proc);
    priority.restore(); // IncomingTasks.sniffer, first
    assertThat(priority.lower()).isFalse();
    assertThat(autogroup()).isEqualTo("/autogroup-77 nice 0\n");
  }

  @Test
  void aProcessInAnotherProcesssSessionLeavesTheSharedGroupAlone() throws Exception {
    // a test's agent: its session is the test JVM's (4100), whose group it would slow down
    fakeSelf("4242 (java) S 4200 4242 4100 0 -1 4194560", "/autogroup-77 nice 0\n");
    WarmUpPriority priority = new WarmUpPriority(proc);
    assertThat(priority.lower()).isFalse();
    priority.restore();
    assertThat(autogroup()).isEqualTo("/autogroup-77 nice 0\n");
  }

  @Test
  void aGroupSomeoneElseReniced() throws Exception {
    fakeSelf("4242 (java) S 4200 4242 4242 0 -1 4194560", "/autogroup-77 nice 5\n");
    assertThat(new WarmUpPriority(proc).lower()).isFalse();
    assertThat(autogroup()).isEqualTo("/autogroup-77 nice 5\n");
  }

  @Test
  void withoutAutogroupsNothingHappens() throws Exception {
    Files.createDirectories(proc.resolve("self"));
    Files.writeString(proc.resolve("self/stat"), "4242 (java) S 4200 4242 4242 0 -1 4194560");
    WarmUpPriority priority = new WarmUpPriority(proc);
    assertThat(priority.lower()).isFalse();
    priority.restore();
    assertThat(proc.resolve("self/autogroup")).doesNotExist();
  }

  @Test
  void theSessionIsReadAfterTheCommandsName() {
    assertThat(WarmUpPriority.leadsItsSession("7 (a) b) c) S 1 7 7 0 -1")).isTrue();
    assertThat(WarmUpPriority.leadsItsSession("7 (a) b) c) S 1 7 70 0 -1")).isFalse();
    assertThat(WarmUpPriority.leadsItsSession("7 (x)")).isFalse();
  }

  private void fakeSelf(String stat, String autogroup) throws Exception {
    Files.createDirectories(proc.resolve("self"));
    Files.writeString(proc.resolve("self/stat"), stat);
    Files.writeString(proc.resolve("self/autogroup"), autogroup);
  }

  private String autogroup() throws Exception {
    return Files.readString(proc.resolve("self/autogroup"));
  }
}
