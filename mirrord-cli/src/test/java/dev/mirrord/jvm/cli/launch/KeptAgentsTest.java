package dev.mirrord.jvm.cli.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kept-agents directory ({@code agent.ttl}) with a fake notion of which agents run. */
class KeptAgentsTest {
  @TempDir Path tmp;
  final Set<Long> running = new HashSet<>();

  private KeptAgents agents() {
    return new KeptAgents(tmp.resolve("mirrord-agents"), (pid, socket) -> running.contains(pid));
  }

  private KeptAgents.Entry kept(KeptAgents a, String key, long pid, long releasedAt) throws Exception {
    String name = KeptAgents.newName(key);
    Path socket = a.dir().resolve(name + ".sock");
    KeptAgents.Entry e = new KeptAgents.Entry(name, pid, "tok-" + pid, socket, a.dir().resolve(name + ".log"), releasedAt);
    a.write(e);
    Files.createFile(socket);
    running.add(pid);
    return e;
  }

  @Test
  void theKeyNamesTheTargetAndChangesWithItsStartAndTheAgentsIdentity() {
    String k = KeptAgents.key(42, "1234", "java -jar agent.jar ttl=30");
    assertThat(k).matches("pid-42-[0-9a-f]{16}");
    assertThat(KeptAgents.key(42, "1234", "java -jar agent.jar ttl=30")).isEqualTo(k);
    assertThat(KeptAgents.key(42, "1235", "java -jar agent.jar ttl=30")).as("a recycled pid").isNotEqualTo(k);
    assertThat(KeptAgents.key(42, "1234", "java -jar agent.jar ttl=60")).as("other settings").isNotEqualTo(k);
  }

  @Test
  void theStartTimeIsField22OfStatEvenWithSpacesAndParenthesesInTheName(@TempDir Path proc) throws Exception {
    Files.createDirectories(proc.resolve("7"));
    Files.writeString(proc.resolve("7/stat"),
        "7 (my (odd) app) S 1 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n");
    assertThat(KeptAgents.startTime(proc, 7)).isEqualTo("987654");
    assertThat(KeptAgents.startTime(proc, 8)).isEmpty();
  }

  @Test
  void anAgentInUseOrIdleWithinItsTtlIsReusedTheNewestFirst() throws Exception {
    KeptAgents a = agents();
    String key = KeptAgents.key(42, "1", "x");
    long now = 1_000_000;
    kept(a, key, 101, now - 20_000);
    KeptAgents.Entry recent = kept(a, key, 102, now - 1_000);
    assertThat(a.usable(key, 30, now)).contains(recent);

    KeptAgents.Entry busy = kept(a, key, 103, 0);
    assertThat(a.usable(key, 30, now)).as("one a session uses is alive for sure").contains(busy);
    assertThat(a.usable(KeptAgents.key(43, "1", "x"), 30, now)).as("another target").isEmpty();
  }

  @Test
  void anAgentInTheLastSecondsOfItsTtlIsNotReused() throws Exception {
    KeptAgents a = agents();
    String key = KeptAgents.key(42, "1", "x");
    long now = 1_000_000;
    kept(a, key, 101, now - (30_000 - KeptAgents.MARGIN_MILLIS) + 1);
    assertThat(a.usable(key, 30, now)).isPresent();
    assertThat(a.usable(key, 30, now + 2)).as("inside the margin").isEmpty();
  }

  @Test
  void theEntryAndSocketOfAKilledAgentAreDeletedAndItIsNotReused() throws Exception {
    KeptAgents a = agents();
    String key = KeptAgents.key(42, "1", "x");
    KeptAgents.Entry e = kept(a, key, 101, 0);
    running.remove(101L);
    assertThat(a.usable(key, 30, 0)).isEmpty();
    assertThat(a.entryFile(e.name())).doesNotExist();
    assertThat(e.socket()).doesNotExist();
  }

  @Test
  void entriesAreOwnerOnlyAndReleasedMarksTheTime() throws Exception {
    KeptAgents a = agents();
    String key = KeptAgents.key(42, "1", "x");
    KeptAgents.Entry e = kept(a, key, 101, 0);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.entryFile(e.name())))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.dir()))).isEqualTo("rwx------");
    assertThat(a.read(e.name())).contains(e);

    a.released(key, e, 5_000);
    assertThat(a.read(e.name()).orElseThrow().releasedAtMillis()).isEqualTo(5_000);
    assertThat(a.read(e.name()).orElseThrow().token()).isEqualTo("tok-101");

    Files.delete(a.entryFile(e.name())); // the agent left and deleted its entry
    a.released(key, e, 6_000);
    assertThat(a.entryFile(e.name())).as("not written again for an agent that left").doesNotExist();
  }

  @Test
  void purgeDeletesWhatKilledAgentsLeftAndLockFilesNoOneHolds() throws Exception {
    KeptAgents a = agents();
    String key1 = KeptAgents.key(42, "1", "x");
    String key2 = KeptAgents.key(43, "1", "x");
    KeptAgents.Entry dead = kept(a, key1, 101, 0);
    KeptAgents.Entry alive = kept(a, key2, 102, 0);
    a.lock(key1).close();
    a.lock(key2).close();
    running.remove(101L);

    a.purge();

    assertThat(a.entryFile(dead.name())).doesNotExist();
    assertThat(dead.socket()).doesNotExist();
    assertThat(a.dir().resolve(key1 + ".lock")).doesNotExist();
    assertThat(a.entryFile(alive.name())).exists();
    assertThat(a.dir().resolve(key2 + ".lock")).exists();
  }

  @Test
  void aDirectoryThatIsASymlinkOrNotOursIsNeverReadNorUsed() throws Exception {
    Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
    Files.createSymbolicLink(tmp.resolve("mirrord-agents"), elsewhere);
    KeptAgents a = agents();
    assertThat(a.untrusted()).contains("is not a directory");
    Files.writeString(elsewhere.resolve("pid-42-x-1.agent"), "pid=1\ntoken=t\nsocket=/x.sock\nlog=/x.log\n");
    assertThat(a.entries("")).as("entries of a directory we cannot trust").isEmpty();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.lock(KeptAgents.key(42, "1", "x")))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("is not a directory");

    org.junit.jupiter.api.Assumptions.assumeTrue(
        Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")), "chown needs root");
    Path other = Files.createDirectory(tmp.resolve("other"));
    Files.setAttribute(other, "unix:uid", 65534); // nobody's
    KeptAgents b = new KeptAgents(other, (pid, socket) -> true);
    assertThat(b.untrusted()).contains("belongs to uid 65534, not to this user");
  }

  @Test
  void anUnreadableEntryIsDeletedNotFatal() throws Exception {
    KeptAgents a = agents();
    String key = KeptAgents.key(42, "1", "x");
    a.lock(key).close(); // creates the directory
    Files.writeString(a.dir().resolve(key + "-1.agent"), "pid=abc\n");
    assertThat(a.usable(key, 30, 0)).isEmpty();
    assertThat(a.dir().resolve(key + "-1.agent")).doesNotExist();
  }
}
